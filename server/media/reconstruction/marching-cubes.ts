/**
 * Marching cubes (Lorensen & Cline 1987) over a {@link TsdfVolume}: the zero level set of the
 * distance field as a welded, vertex-coloured triangle mesh in `world` (z up, metres).
 *
 * Cubes join 8 neighbouring voxel centres; a cube is meshed only when all 8 were observed
 * (weight > 0), so unseen space never produces surface. Corner c of a cube at (i, j, k) is
 * (i, j, k) + (0,0,0), (1,0,0), (1,1,0), (0,1,0), then the same at k + 1 (Bourke's numbering);
 * a corner is "inside" when its distance is negative (behind the seen surface). Vertices lie
 * on cube edges where the distance changes sign, placed by linear interpolation, coloured by
 * interpolating the two voxels' colours. Each grid edge yields one vertex shared by every
 * cube that touches it (welding by edge): x and y edges are cached per layer of voxels, z edges
 * per slab between two layers, so the cache holds O(nx·ny) entries, not O(voxels).
 * Triangles wind counter-clockwise seen from outside (glTF's front face), so normals point
 * out of the surface, into free space, towards the cameras that saw it.
 */
import type { TsdfVolume } from "./tsdf.ts";

/**
 * Triangles per cube configuration (the classic table of Paul Bourke, "Polygonising a scalar
 * field", 1994, as also shipped by three.js): for case `c` (bit n set when corner n is
 * inside), hex digits are cube edges, three per triangle; "-" is no triangle.
 */
const TRI_CASES = [
  "- 083 019 183981 12a 08312a 92a029 2832a8a98 3b2 0b28b0 19023b 1b219b98b 3a1ba3",
  "0a108a8ba 3903b9ba9 98aa8b 478 430734 019847 419471731 12a847 34730412a 92a902847",
  "2a9297273794 8473b2 b47b24204 90184723b 47b94b9b2921 3a13ba784 1ba14b1047b4 47890b9bab03",
  "47b4b99ba 954 954083 054150 854835315 12a954 30812a495 52a542402 2a5325354348 95423b",
  "0b208b495 05401523b 21525828b485 a3ba13954 4950818a18ba 54050b5bab03 54858aa8b 978579",
  "930953573 078017157 153357 978957a12 a12950530573 802825857a52 2a5253357 7957893b2",
  "95797292027b 23b018178157 b21b17715 958857a13a3b 5705097b010aba0 ba0b03a50807570 ba57b5",
  "a65 0835a6 9015a6 1831985a6 165261 165126308 965906026 598582526328 23ba65 b08b20a65",
  "01923b5a6 5a61929b298b 63b653513 08b0b50515b6 3b6036065059 65969bb98 5a6478 43047365a",
  "1905a6847 a65197173794 612651478 125526304347 847905065026 739794329596269 3b2784a65",
  "5a647242027b 01947823b5a6 9219b294b7b45a6 8473b53515b6 51b5b610b7b404b 059065036b63847",
  "65969b4797b9 a4964a 4a649a083 a01a60640 83181686461a 149124264 308129249264 024426",
  "832824426 a49a64b23 08228b49a4a6 3b201606461a 64161a48121b8b1 964936913b63",
  "8b1810b61914641 3b6360064 648b68 7a678a89a 0730a709a67a a671a7178180 a67a71173",
  "126168189867 269291679093739 780706602 732672 23ba68a89867 20727b09767a9a7",
  "1801781a767a23b b21b17a61671 896867916b63136 091b67 7807063b0b60 7b6 76b 308b76 019b76",
  "819831b76 a126b7 12a3086b7 2902a96b7 6b72a3a83a98 723627 708760620 276237019",
  "162186198876 a76a17137 a7617a187108 03707a0a96a7 76a7a88a9 684b86 36b306046 86b846901",
  "946963931b36 6846b82a1 12a30b06b046 4b846b0292a9 a93a32943b36463 823842462 042462",
  "190234246438 194142246 8138618466a1 a10a06604 4634386a3039a93 a946a4 49576b 083495b76",
  "50154076b b76834354315 954a1276b 6b712a083495 76b54a42a402 348354325a52b76 723762549",
  "954086062687 362376150540 628687218485158 954a16176137 16a176107870954 40a4a503a6a737a",
  "76a7a854a48a 6956b9b89 36b063056095 0b805b01556b 6b3635531 12a95b9b8b56 0b306b09656912a",
  "b85b56805a52025 6b36352a3a53 589528562382 956960062 158180568382628 156216",
  "13616a386569896 a10a06950560 03856a a56 b5a75b b5ab75830 5b75ab190 a75ab7981831",
  "b12b71751 08312717572b 9759279022b7 75272b592328982 25a235375 820852875a25 9015a35373a2",
  "982921872a25752 135375 087071175 903935537 987597 5845a8ab8 5045b05abb30 01984a8aba45",
  "ab4a45b34941314 2512852b8458 04b0b345b2b151b 0250592b5458b85 9452b3 25a352345384",
  "5a2524420 3a235a385458019 5a2524192942 845853351 045105 845853905035 945 4b749b9ab",
  "0834979b79ab 1ab1b414074b 3143481a474bab4 4b79b492b912 9749b791b2b1083 b74b42240",
  "b74b42834324 29a279237749 9a7974a27870207 37a3a274a1a040a 1a2874 491417713 491417081871",
  "403743 487 9a8ab8 30939bb9a 01a0a88ab 31ab3a 12b1b99b8 30939b1292b9 02b80b 32b 23828aa89",
  "9a2092 23828a0181a8 1a2 138918 091 038 -",
]
  .join(" ")
  .split(" ");

/** Triangle edge lists per case, −1 terminated, 16 entries per case. */
const TRI_TABLE: Int8Array = (() => {
  if (TRI_CASES.length !== 256) throw new Error("marching cubes table must have 256 cases");
  const table = new Int8Array(256 * 16).fill(-1);
  TRI_CASES.forEach((s, c) => {
    if (s === "-") return;
    for (let n = 0; n < s.length; n++) table[c * 16 + n] = parseInt(s[n]!, 16);
  });
  return table;
})();

/** Bit mask of the edges each case cuts (derived from {@link TRI_TABLE}). */
const EDGE_MASK: Uint16Array = (() => {
  const mask = new Uint16Array(256);
  for (let c = 0; c < 256; c++) {
    for (let n = 0; n < 16; n++) {
      const e = TRI_TABLE[c * 16 + n]!;
      if (e < 0) break;
      mask[c]! |= 1 << e;
    }
  }
  return mask;
})();

/** Corners joined by each of the 12 cube edges (Bourke's numbering). */
const EDGE_CORNERS: readonly (readonly [number, number])[] = [
  [0, 1],
  [1, 2],
  [3, 2],
  [0, 3],
  [4, 5],
  [5, 6],
  [7, 6],
  [4, 7],
  [0, 4],
  [1, 5],
  [2, 6],
  [3, 7],
];

/** Corner offsets (di, dj, dk) of a cube. */
const CORNER_OFFSETS: readonly (readonly [number, number, number])[] = [
  [0, 0, 0],
  [1, 0, 0],
  [1, 1, 0],
  [0, 1, 0],
  [0, 0, 1],
  [1, 0, 1],
  [1, 1, 1],
  [0, 1, 1],
];

/** A triangle mesh in `world`, metres. */
export interface TriangleMesh {
  /** x, y, z per vertex, metres. */
  readonly positions: Float32Array;
  /** Unit normal per vertex (area-weighted mean of the faces around it). */
  readonly normals: Float32Array;
  /** R, G, B per vertex, sRGB 0…255. */
  readonly colors: Uint8Array;
  /** Three vertex indices per triangle, counter-clockwise from outside. */
  readonly indices: Uint32Array;
}

/** A growable typed array (doubling), so memory follows the mesh, not the volume. */
class Grow<T extends Float32Array | Uint8Array | Uint32Array> {
  data: T;
  length = 0;
  constructor(readonly make: (n: number) => T) {
    this.data = make(1024);
  }
  reserve(extra: number): T {
    if (this.length + extra > this.data.length) {
      const next = this.make(Math.max(this.data.length * 2, this.length + extra));
      next.set(this.data.subarray(0, this.length));
      this.data = next;
    }
    return this.data;
  }
  result(): T {
    return this.data.slice(0, this.length) as T;
  }
}

/**
 * Incremental extractor: call {@link processSlab} for k = 0 … nz − 2 in order (each slab is
 * the cubes between voxel layers k and k + 1), then {@link finish}. Lets a caller yield to
 * the event loop between slabs; {@link extractMesh} runs it in one go.
 */
export class MeshExtractor {
  readonly #vol: TsdfVolume;
  readonly #pos = new Grow((n) => new Float32Array(n));
  readonly #col = new Grow((n) => new Uint8Array(n));
  readonly #idx = new Grow((n) => new Uint32Array(n));
  /** Vertex ids of x and y edges in the lower (A) and upper (B) layer, −1 = none yet. */
  #xA: Int32Array;
  #yA: Int32Array;
  #xB: Int32Array;
  #yB: Int32Array;
  /** Vertex ids of z edges of the current slab. */
  readonly #z: Int32Array;
  #next = 0;
  #vertices = 0;
  /** Scratch: the current cube's vertex id per edge, corner distances and voxel indices. */
  readonly #edgeVertex = new Int32Array(12);
  readonly #cornerValue = new Float32Array(8);
  readonly #cornerIndex = new Int32Array(8);

  constructor(volume: TsdfVolume) {
    this.#vol = volume;
    const layer = volume.nx * volume.ny;
    this.#xA = new Int32Array(layer).fill(-1);
    this.#yA = new Int32Array(layer).fill(-1);
    this.#xB = new Int32Array(layer).fill(-1);
    this.#yB = new Int32Array(layer).fill(-1);
    this.#z = new Int32Array(layer).fill(-1);
  }

  /** Slabs to process (nz − 1). */
  get slabs(): number {
    return this.#vol.nz - 1;
  }

  /** Meshes the cubes between voxel layers `k` and `k + 1`; `k` must follow the previous call. */
  processSlab(k: number): void {
    if (k !== this.#next) throw new Error(`slab ${k} out of order (expected ${this.#next})`);
    this.#next++;
    const vol = this.#vol;
    const { nx, ny } = vol;
    const layer = nx * ny;
    const tsdf = vol.tsdf;
    const weight = vol.weight;
    const value = this.#cornerValue;
    const cornerIdx = this.#cornerIndex;
    const ev = this.#edgeVertex;
    this.#z.fill(-1);
    for (let j = 0; j < ny - 1; j++) {
      for (let i = 0; i < nx - 1; i++) {
        const base = i + nx * (j + ny * k);
        cornerIdx[0] = base;
        cornerIdx[1] = base + 1;
        cornerIdx[2] = base + 1 + nx;
        cornerIdx[3] = base + nx;
        cornerIdx[4] = base + layer;
        cornerIdx[5] = base + 1 + layer;
        cornerIdx[6] = base + 1 + nx + layer;
        cornerIdx[7] = base + nx + layer;
        let cube = 0;
        let seen = true;
        for (let c = 0; c < 8; c++) {
          const v = cornerIdx[c]!;
          if ((weight[v] as number) === 0) {
            seen = false;
            break;
          }
          const d = tsdf[v] as number;
          value[c] = d;
          if (d < 0) cube |= 1 << c;
        }
        if (!seen || cube === 0 || cube === 255) continue;
        const mask = EDGE_MASK[cube]!;
        const cell = i + nx * j;
        for (let e = 0; e < 12; e++) {
          if (mask & (1 << e)) ev[e] = this.#edgeVertexId(e, cell, i, j, k);
        }
        const row = cube * 16;
        const out = this.#idx.reserve(15);
        for (let n = 0; n < 16 && TRI_TABLE[row + n]! >= 0; n += 3) {
          // Bourke's triangles wind clockwise seen from the outside (distance > 0) side.
          out[this.#idx.length++] = ev[TRI_TABLE[row + n]!]!;
          out[this.#idx.length++] = ev[TRI_TABLE[row + n + 2]!]!;
          out[this.#idx.length++] = ev[TRI_TABLE[row + n + 1]!]!;
        }
      }
    }
    // Layer k + 1 becomes the lower layer of the next slab.
    const xa = this.#xA;
    const ya = this.#yA;
    this.#xA = this.#xB;
    this.#yA = this.#yB;
    this.#xB = xa.fill(-1);
    this.#yB = ya.fill(-1);
  }

  /** Vertex id on edge `e` of the cube at (i, j, k) (`cell` = i + nx·j), made on first use. */
  #edgeVertexId(e: number, cell: number, i: number, j: number, k: number): number {
    const nx = this.#vol.nx;
    let cache: Int32Array;
    let slot: number;
    switch (e) {
      case 0:
        [cache, slot] = [this.#xA, cell];
        break;
      case 1:
        [cache, slot] = [this.#yA, cell + 1];
        break;
      case 2:
        [cache, slot] = [this.#xA, cell + nx];
        break;
      case 3:
        [cache, slot] = [this.#yA, cell];
        break;
      case 4:
        [cache, slot] = [this.#xB, cell];
        break;
      case 5:
        [cache, slot] = [this.#yB, cell + 1];
        break;
      case 6:
        [cache, slot] = [this.#xB, cell + nx];
        break;
      case 7:
        [cache, slot] = [this.#yB, cell];
        break;
      case 8:
        [cache, slot] = [this.#z, cell];
        break;
      case 9:
        [cache, slot] = [this.#z, cell + 1];
        break;
      case 10:
        [cache, slot] = [this.#z, cell + 1 + nx];
        break;
      default:
        [cache, slot] = [this.#z, cell + nx];
    }
    const cached = cache[slot]!;
    if (cached >= 0) return cached;
    const id = this.#makeVertex(e, i, j, k);
    cache[slot] = id;
    return id;
  }

  #makeVertex(e: number, i: number, j: number, k: number): number {
    const vol = this.#vol;
    const [ca, cb] = EDGE_CORNERS[e]!;
    const va = this.#cornerValue[ca]!;
    const vb = this.#cornerValue[cb]!;
    const t = va / (va - vb);
    const oa = CORNER_OFFSETS[ca]!;
    const ob = CORNER_OFFSETS[cb]!;
    const s = vol.voxelSizeM;
    const o = vol.origin;
    const pos = this.#pos.reserve(3);
    const p = this.#pos.length;
    pos[p] = o.x + (i + 0.5 + oa[0] + t * (ob[0] - oa[0])) * s;
    pos[p + 1] = o.y + (j + 0.5 + oa[1] + t * (ob[1] - oa[1])) * s;
    pos[p + 2] = o.z + (k + 0.5 + oa[2] + t * (ob[2] - oa[2])) * s;
    this.#pos.length += 3;
    const col = this.#col.reserve(3);
    const ia = this.#cornerIndex[ca]! * 4;
    const ib = this.#cornerIndex[cb]! * 4;
    const c = vol.color;
    // A voxel seen only as free space has no colour; take the other one's then.
    const wa = c[ia + 3]! > 0 ? (c[ib + 3]! > 0 ? 1 - t : 1) : 0;
    const wb = c[ib + 3]! > 0 ? 1 - wa : 0;
    for (let ch = 0; ch < 3; ch++) {
      col[this.#col.length++] = Math.round(c[ia + ch]! * wa + c[ib + ch]! * wb);
    }
    return this.#vertices++;
  }

  /** The mesh so far, with normals; call once after the last slab. */
  finish(): TriangleMesh {
    const positions = this.#pos.result();
    const indices = this.#idx.result();
    return {
      positions,
      normals: computeNormals(positions, indices),
      colors: this.#col.result(),
      indices,
    };
  }
}

/** Marching cubes over the whole volume in one call (see {@link MeshExtractor}). */
export function extractMesh(volume: TsdfVolume): TriangleMesh {
  const ex = new MeshExtractor(volume);
  for (let k = 0; k < ex.slabs; k++) ex.processSlab(k);
  return ex.finish();
}

/**
 * Unit vertex normals: the area-weighted sum of the normals of the triangles around each
 * vertex (right-hand rule on the winding), normalised; (0, 0, 1) for a vertex in no triangle.
 */
export function computeNormals(positions: Float32Array, indices: Uint32Array): Float32Array {
  const acc = new Float64Array(positions.length);
  for (let f = 0; f < indices.length; f += 3) {
    const a = indices[f]! * 3;
    const b = indices[f + 1]! * 3;
    const c = indices[f + 2]! * 3;
    const ux = positions[b]! - positions[a]!;
    const uy = positions[b + 1]! - positions[a + 1]!;
    const uz = positions[b + 2]! - positions[a + 2]!;
    const vx = positions[c]! - positions[a]!;
    const vy = positions[c + 1]! - positions[a + 1]!;
    const vz = positions[c + 2]! - positions[a + 2]!;
    // Cross product: twice the area times the unit normal.
    const nx = uy * vz - uz * vy;
    const ny = uz * vx - ux * vz;
    const nz = ux * vy - uy * vx;
    for (const v of [a, b, c]) {
      acc[v] = acc[v]! + nx;
      acc[v + 1] = acc[v + 1]! + ny;
      acc[v + 2] = acc[v + 2]! + nz;
    }
  }
  const out = new Float32Array(positions.length);
  for (let v = 0; v < out.length; v += 3) {
    const l = Math.hypot(acc[v]!, acc[v + 1]!, acc[v + 2]!);
    if (l > 0) {
      out[v] = acc[v]! / l;
      out[v + 1] = acc[v + 1]! / l;
      out[v + 2] = acc[v + 2]! / l;
    } else out[v + 2] = 1;
  }
  return out;
}
