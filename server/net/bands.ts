/**
 * The cell's default band plan and the radio link budget constants of the channel model.
 *
 * Band plan: a private 5G cell with 5 uplink and 5 downlink NR carriers (the paper's "5 uplink
 * and 5 downlink channels"). Three carrier pairs sit in n78 (3.3–3.8 GHz, the band local
 * industrial licences use), one pair in n79 (4.4–5.0 GHz) and one in the lower 6 GHz band
 * (n96 / NR-U, 5.925–7.125 GHz), so the plan spans a 1.8:1 frequency range and path loss,
 * blockage and reflection losses differ visibly from band to band. Uplink carriers are 20 MHz
 * wide, downlink carriers 40 MHz; no two carriers overlap. Each band is modelled with 16
 * subcarriers: a modelled subcarrier stands for a group of NR subcarriers of width
 * `bandwidthHz / subcarriers` (1.25 MHz uplink, 2.5 MHz downlink), fine enough to resolve the
 * frequency selectivity of a room with ~10–40 ns delay spread (coherence bandwidth ≳ 5 MHz).
 *
 * | band | direction | centre    | width  | NR band |
 * |------|-----------|-----------|--------|---------|
 * | ul-1 | uplink    | 3.310 GHz | 20 MHz | n78     |
 * | ul-2 | uplink    | 3.470 GHz | 20 MHz | n78     |
 * | ul-3 | uplink    | 3.630 GHz | 20 MHz | n78     |
 * | ul-4 | uplink    | 4.610 GHz | 20 MHz | n79     |
 * | ul-5 | uplink    | 5.970 GHz | 20 MHz | n96     |
 * | dl-1 | downlink  | 3.370 GHz | 40 MHz | n78     |
 * | dl-2 | downlink  | 3.530 GHz | 40 MHz | n78     |
 * | dl-3 | downlink  | 3.690 GHz | 40 MHz | n78     |
 * | dl-4 | downlink  | 4.700 GHz | 40 MHz | n79     |
 * | dl-5 | downlink  | 6.100 GHz | 40 MHz | n96     |
 *
 * Link budget: per-subcarrier SNR = P_tx + G_tx + G_rx − L_body − PL_k − N, with each side's
 * total transmit power split evenly over its 5 carriers (−7 dB per carrier) and over the
 * band, and N = −174 dBm/Hz + 10·log10(B) + NF + I
 * (thermal noise over the band plus the receiver's noise figure plus an interference rise
 * from neighbouring cells and Wi-Fi in the factory). Both sides of the sum refer to the whole
 * band, so the per-subcarrier SNR does not depend on how many subcarriers are modelled.
 */
import type { Band } from "./contracts.ts";

/** Modelled subcarriers per band (CSI resolution). */
export const DEFAULT_SUBCARRIERS = 16;

/** Speed of light, m/s. */
export const SPEED_OF_LIGHT = 299_792_458;

/** Thermal noise power spectral density at 290 K, dBm/Hz. */
export const THERMAL_NOISE_DBM_PER_HZ = -174;

/** Radio constants of one link direction. */
export interface LinkBudget {
  /** Transmit power over one band (the total split over the carriers), dBm. */
  readonly txPowerDbm: number;
  /** Transmit antenna gain, dBi. */
  readonly txGainDbi: number;
  /** Receive antenna gain, dBi. */
  readonly rxGainDbi: number;
  /** Receiver noise figure, dB. */
  readonly noiseFigureDb: number;
}

/** gNB (ceiling small cell) total transmit power, shared by its 5 downlink carriers, dBm. */
export const GNB_TX_POWER_DBM = 24;
/** Headset (UE, power class 3) total transmit power, shared by its 5 uplink carriers, dBm. */
export const UE_TX_POWER_DBM = 23;
/** Carriers each side's transmit power is shared among (equal split). */
export const CARRIERS_PER_DIRECTION = 5;
/** gNB antenna gain at boresight (ceiling-corner panel aimed into the cell), dBi. */
export const GNB_ANTENNA_GAIN_DBI = 8;
/** Headset antenna gain (small integrated antenna), dBi. */
export const UE_ANTENNA_GAIN_DBI = -4;
/** gNB receiver noise figure, dB. */
export const GNB_NOISE_FIGURE_DB = 5;
/** Headset receiver noise figure, dB. */
export const UE_NOISE_FIGURE_DB = 9;
/** Loss from the operator's head and body around the headset antenna, dB. */
export const BODY_LOSS_DB = 6;
/** Interference rise over thermal noise from neighbouring cells and Wi-Fi, dB. */
export const INTERFERENCE_RISE_DB = 12;

/** Link budget of the downlink (gNB → headset). */
export const DOWNLINK_BUDGET: LinkBudget = {
  txPowerDbm: GNB_TX_POWER_DBM - 10 * Math.log10(CARRIERS_PER_DIRECTION),
  txGainDbi: GNB_ANTENNA_GAIN_DBI,
  rxGainDbi: UE_ANTENNA_GAIN_DBI,
  noiseFigureDb: UE_NOISE_FIGURE_DB,
};

/** Link budget of the uplink (headset → gNB). */
export const UPLINK_BUDGET: LinkBudget = {
  txPowerDbm: UE_TX_POWER_DBM - 10 * Math.log10(CARRIERS_PER_DIRECTION),
  txGainDbi: UE_ANTENNA_GAIN_DBI,
  rxGainDbi: GNB_ANTENNA_GAIN_DBI,
  noiseFigureDb: GNB_NOISE_FIGURE_DB,
};

/** Link budget of a band's direction. */
export function linkBudget(band: Band): LinkBudget {
  return band.direction === "uplink" ? UPLINK_BUDGET : DOWNLINK_BUDGET;
}

/**
 * SNR, dB, of a unit channel gain (|H| = 1) over the band: P_tx + G_tx + G_rx − L_body − N.
 * Adding 20·log10|H_k| (H including path loss) gives the SNR of subcarrier k.
 * @param interferenceDb interference rise over thermal noise, dB
 */
export function unitGainSnrDb(band: Band, interferenceDb = INTERFERENCE_RISE_DB): number {
  const b = linkBudget(band);
  const noiseDbm =
    THERMAL_NOISE_DBM_PER_HZ + 10 * Math.log10(band.bandwidthHz) + b.noiseFigureDb + interferenceDb;
  return b.txPowerDbm + b.txGainDbi + b.rxGainDbi - BODY_LOSS_DB - noiseDbm;
}

/** Width of one modelled subcarrier, Hz. */
export function subcarrierSpacingHz(band: Band): number {
  return band.bandwidthHz / band.subcarriers;
}

/** Centre frequency of modelled subcarrier `k` (0-based), Hz. */
export function subcarrierHz(band: Band, k: number): number {
  return band.centerHz + (k - (band.subcarriers - 1) / 2) * subcarrierSpacingHz(band);
}

function band(
  id: string,
  direction: Band["direction"],
  centerGHz: number,
  bandwidthMHz: number,
): Band {
  return {
    id,
    direction,
    centerHz: centerGHz * 1e9,
    bandwidthHz: bandwidthMHz * 1e6,
    subcarriers: DEFAULT_SUBCARRIERS,
  };
}

/** The cell's 5 uplink + 5 downlink carriers, uplink first (see the table above). */
export const DEFAULT_BANDS: readonly Band[] = Object.freeze([
  band("ul-1", "uplink", 3.31, 20),
  band("ul-2", "uplink", 3.47, 20),
  band("ul-3", "uplink", 3.63, 20),
  band("ul-4", "uplink", 4.61, 20),
  band("ul-5", "uplink", 5.97, 20),
  band("dl-1", "downlink", 3.37, 40),
  band("dl-2", "downlink", 3.53, 40),
  band("dl-3", "downlink", 3.69, 40),
  band("dl-4", "downlink", 4.7, 40),
  band("dl-5", "downlink", 6.1, 40),
]);
