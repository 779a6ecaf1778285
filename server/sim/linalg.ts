/**
 * The one piece of linear algebra the kinematics needs: a damped least-squares step for a
 * 6 × n Jacobian, `dq = Jᵀ (J Jᵀ + λ² I)⁻¹ e`. Solving the 6 × 6 system (Cholesky) instead
 * of an n × n one keeps it cheap for any n; the damping λ keeps the step bounded near
 * singularities (Wampler 1986; Buss, "Introduction to IK with Jacobian transpose, pseudoinverse
 * and damped least squares", 2009). No allocation: scratch lives in the caller's buffers.
 */

/** Reusable buffers for {@link dampedLeastSquares}. */
export interface DlsScratch {
  /** 6 × 6 system matrix, row-major. */
  readonly a: Float64Array;
  /** 6-vector solution of `A y = e`. */
  readonly y: Float64Array;
}

export function newDlsScratch(): DlsScratch {
  return { a: new Float64Array(36), y: new Float64Array(6) };
}

/**
 * Writes the damped least-squares joint step for task error `e` into `out`.
 * @param jac 6 × n Jacobian, row-major (rows: vx, vy, vz, wx, wy, wz)
 * @param n number of joints
 * @param e 6-vector task error (m and rad; rows as in `jac`)
 * @param lambda damping, in the units of `e` (> 0)
 * @param out n-vector, rad (or m for prismatic joints)
 */
export function dampedLeastSquares(
  jac: Float64Array,
  n: number,
  e: ArrayLike<number>,
  lambda: number,
  out: Float64Array,
  scratch: DlsScratch,
): Float64Array {
  const { a, y } = scratch;
  const l2 = lambda * lambda;
  for (let r = 0; r < 6; r++) {
    for (let c = 0; c <= r; c++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += (jac[r * n + k] as number) * (jac[c * n + k] as number);
      if (r === c) s += l2;
      a[r * 6 + c] = s;
      a[c * 6 + r] = s;
    }
  }
  // In-place Cholesky A = L Lᵀ (lower triangle), then forward and back substitution.
  for (let j = 0; j < 6; j++) {
    let d = a[j * 6 + j] as number;
    for (let k = 0; k < j; k++) d -= (a[j * 6 + k] as number) ** 2;
    d = Math.sqrt(Math.max(d, 1e-300));
    a[j * 6 + j] = d;
    for (let i = j + 1; i < 6; i++) {
      let s = a[i * 6 + j] as number;
      for (let k = 0; k < j; k++) s -= (a[i * 6 + k] as number) * (a[j * 6 + k] as number);
      a[i * 6 + j] = s / d;
    }
  }
  for (let i = 0; i < 6; i++) {
    let s = e[i] as number;
    for (let k = 0; k < i; k++) s -= (a[i * 6 + k] as number) * (y[k] as number);
    y[i] = s / (a[i * 6 + i] as number);
  }
  for (let i = 5; i >= 0; i--) {
    let s = y[i] as number;
    for (let k = i + 1; k < 6; k++) s -= (a[k * 6 + i] as number) * (y[k] as number);
    y[i] = s / (a[i * 6 + i] as number);
  }
  for (let k = 0; k < n; k++) {
    let s = 0;
    for (let r = 0; r < 6; r++) s += (jac[r * n + k] as number) * (y[r] as number);
    out[k] = s;
  }
  return out;
}
