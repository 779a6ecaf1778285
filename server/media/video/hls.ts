/**
 * HLS text and bytes: reading the media playlists ffmpeg writes, writing the master
 * playlist ourselves (measured BANDWIDTH/AVERAGE-BANDWIDTH, RESOLUTION, FRAME-RATE,
 * CODECS), and the RFC 6381 codec string of an H.264 rendition read from its bytes.
 */

/** One media segment of a playlist. */
export interface HlsSegment {
  /** URI as written (relative to the playlist). */
  readonly uri: string;
  /** `#EXTINF` duration, s. */
  readonly durationS: number;
}

/** A parsed media playlist. */
export interface MediaPlaylist {
  readonly version: number | null;
  /** `#EXT-X-TARGETDURATION`, s. */
  readonly targetDurationS: number | null;
  readonly mediaSequence: number;
  /** `VOD`, `EVENT`, or null for a live sliding window. */
  readonly playlistType: string | null;
  /** `#EXT-X-ENDLIST` present (the playlist is complete). */
  readonly endList: boolean;
  /** `#EXT-X-MAP` URI (fMP4 init segment), or null. */
  readonly map: string | null;
  readonly segments: readonly HlsSegment[];
}

/** Parses the attribute list of a tag: `A=1,B="x,y"` → `{ A: "1", B: "x,y" }`. */
export function parseAttributes(list: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /([A-Z0-9-]+)=("[^"]*"|[^,]*)(?:,|$)/g;
  for (const m of list.matchAll(re)) {
    const key = m[1];
    const raw = m[2] ?? "";
    if (key) out[key] = raw.startsWith('"') ? raw.slice(1, -1) : raw;
  }
  return out;
}

/** Parses a media playlist. @throws Error when the text is not an HLS playlist. */
export function parseMediaPlaylist(text: string): MediaPlaylist {
  const lines = text.split(/\r?\n/).map((l) => l.trim());
  if (lines[0] !== "#EXTM3U") throw new Error("not an HLS playlist (no #EXTM3U)");
  let version: number | null = null;
  let target: number | null = null;
  let sequence = 0;
  let type: string | null = null;
  let endList = false;
  let map: string | null = null;
  let pending: number | null = null;
  const segments: HlsSegment[] = [];
  for (const line of lines.slice(1)) {
    if (!line) continue;
    if (line.startsWith("#EXT-X-VERSION:")) version = Number(line.slice(15));
    else if (line.startsWith("#EXT-X-TARGETDURATION:")) target = Number(line.slice(22));
    else if (line.startsWith("#EXT-X-MEDIA-SEQUENCE:")) sequence = Number(line.slice(22));
    else if (line.startsWith("#EXT-X-PLAYLIST-TYPE:")) type = line.slice(21);
    else if (line === "#EXT-X-ENDLIST") endList = true;
    else if (line.startsWith("#EXT-X-MAP:")) map = parseAttributes(line.slice(11)).URI ?? null;
    else if (line.startsWith("#EXTINF:")) pending = Number.parseFloat(line.slice(8));
    else if (!line.startsWith("#")) {
      segments.push({ uri: line, durationS: pending ?? Number.NaN });
      pending = null;
    }
  }
  return {
    version,
    targetDurationS: target,
    mediaSequence: sequence,
    playlistType: type,
    endList,
    map,
    segments,
  };
}

/** One variant of a master playlist. */
export interface MasterVariant {
  /** Media playlist URI, relative to the master. */
  readonly uri: string;
  /** Peak segment bitrate, bit/s (HLS `BANDWIDTH`). */
  readonly bandwidthBps: number;
  /** Mean bitrate, bit/s (`AVERAGE-BANDWIDTH`), or null to leave it out. */
  readonly averageBandwidthBps: number | null;
  readonly width: number;
  readonly height: number;
  /** frames/s, or null. */
  readonly frameRate: number | null;
  /** RFC 6381 codecs, e.g. `avc1.640028,mp4a.40.2`, or null when unknown. */
  readonly codecs: string | null;
}

/** Writes a master playlist, variants in the order given (lowest first by convention). */
export function renderMasterPlaylist(
  variants: readonly MasterVariant[],
  options: { version?: number } = {},
): string {
  const lines = [
    "#EXTM3U",
    `#EXT-X-VERSION:${options.version ?? 7}`,
    "#EXT-X-INDEPENDENT-SEGMENTS",
  ];
  for (const v of variants) {
    const attrs = [`BANDWIDTH=${Math.max(1, Math.round(v.bandwidthBps))}`];
    if (v.averageBandwidthBps !== null) {
      attrs.push(`AVERAGE-BANDWIDTH=${Math.max(1, Math.round(v.averageBandwidthBps))}`);
    }
    attrs.push(`RESOLUTION=${v.width}x${v.height}`);
    if (v.frameRate !== null) attrs.push(`FRAME-RATE=${v.frameRate.toFixed(3)}`);
    if (v.codecs) attrs.push(`CODECS="${v.codecs}"`);
    lines.push(`#EXT-X-STREAM-INF:${attrs.join(",")}`, v.uri);
  }
  return `${lines.join("\n")}\n`;
}

/** A variant read back from a master playlist. */
export interface ParsedVariant {
  readonly uri: string;
  readonly attributes: Record<string, string>;
}

/** Parses the variants of a master playlist. @throws Error when it is not HLS. */
export function parseMasterPlaylist(text: string): ParsedVariant[] {
  const lines = text.split(/\r?\n/).map((l) => l.trim());
  if (lines[0] !== "#EXTM3U") throw new Error("not an HLS playlist (no #EXTM3U)");
  const out: ParsedVariant[] = [];
  let pending: Record<string, string> | null = null;
  for (const line of lines) {
    if (line.startsWith("#EXT-X-STREAM-INF:")) pending = parseAttributes(line.slice(18));
    else if (pending && line && !line.startsWith("#")) {
      out.push({ uri: line, attributes: pending });
      pending = null;
    }
  }
  return out;
}

const hex2 = (n: number) => n.toString(16).padStart(2, "0").toUpperCase();

/**
 * `avc1.PPCCLL` from the `avcC` box of an fMP4 init segment (profile, constraint flags,
 * level as stored by the encoder), or null when the bytes hold none.
 */
export function avcCodecFromInit(init: Buffer): string | null {
  const at = init.indexOf("avcC", 0, "latin1");
  // avcC payload: configurationVersion, AVCProfileIndication, profile_compatibility, level.
  if (at < 0 || at + 8 > init.length) return null;
  const profile = init[at + 5];
  const compat = init[at + 6];
  const level = init[at + 7];
  if (profile === undefined || compat === undefined || level === undefined) return null;
  return `avc1.${hex2(profile)}${hex2(compat)}${hex2(level)}`;
}

/**
 * `avc1.PPCCLL` from the first H.264 sequence parameter set in an Annex B byte stream
 * (an MPEG-TS segment), or null when none is found.
 */
export function avcCodecFromAnnexB(data: Buffer): string | null {
  for (let i = 0; i + 6 < data.length; i++) {
    if (data[i] !== 0 || data[i + 1] !== 0 || data[i + 2] !== 1) continue;
    const header = data[i + 3] ?? 0;
    if ((header & 0x1f) !== 7 || (header & 0x80) !== 0) continue;
    const profile = data[i + 4];
    const compat = data[i + 5];
    const level = data[i + 6];
    if (profile === undefined || compat === undefined || level === undefined) return null;
    return `avc1.${hex2(profile)}${hex2(compat)}${hex2(level)}`;
  }
  return null;
}

/** RFC 6381 string of AAC-LC, the audio every rendition carries when the clip has sound. */
export const AAC_LC_CODEC = "mp4a.40.2";
