/**
 * Joint names between the twin (URDF group order) and a cell that may name its joints
 * differently (e.g. `fr3_joint1` for `panda_joint1`), from the `JOINT_NAME_MAP` config.
 */
export class JointNameMap {
  /** Cell name → index in the twin's group order. */
  readonly #index = new Map<string, number>();

  constructor(
    /** Twin joint names in group order. */
    readonly twinNames: readonly string[],
    private readonly map: Readonly<Record<string, string>>,
  ) {
    twinNames.forEach((n, i) => this.#index.set(this.toCell(n), i));
  }

  /** The cell's name for a twin joint (itself when unmapped). */
  toCell(twinName: string): string {
    return this.map[twinName] ?? twinName;
  }

  /** Group index of a cell joint name, or undefined for joints outside the group. */
  indexOf(cellName: string): number | undefined {
    return this.#index.get(cellName);
  }

  /** The cell's names in group order. */
  cellNames(): string[] {
    return this.twinNames.map((n) => this.toCell(n));
  }
}
