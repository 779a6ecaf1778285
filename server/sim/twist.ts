/**
 * Cartesian jogging: the joint velocities that move the tool with a given twist, by damped
 * least squares on the geometric Jacobian (so a singular pose slows the arm down instead of
 * spinning a joint). Twist and Jacobian in `base_link`: linear m/s, angular rad/s.
 */
import type { Vec3 } from "../../shared/geometry.ts";
import { dampedLeastSquares, newDlsScratch } from "./linalg.ts";

/**
 * @param jac 6 × n Jacobian, row-major (see ArmKinematics.jacobian)
 * @param damping λ of the damped least squares, in m/s-equivalent (0.01–0.1 is typical)
 * @param out joint velocities, rad/s (its length is n)
 */
export function twistToJointVelocities(
  jac: Float64Array,
  linear: Vec3,
  angular: Vec3,
  damping: number,
  out: Float64Array,
): Float64Array {
  const e = [linear.x, linear.y, linear.z, angular.x, angular.y, angular.z];
  return dampedLeastSquares(jac, out.length, e, damping, out, newDlsScratch());
}
