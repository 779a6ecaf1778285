using System;

namespace AgentTwin
{
    /// <summary>
    /// Smooth joint playback from irregular state patches: keeps the last samples of the arm
    /// (stamped with the cell's clock, <c>robot.stamp</c>, ms) and renders them a fixed delay
    /// behind, interpolating between the two samples around the render time.
    ///
    /// The cell's clock and the headset's differ by an unknown offset plus network delay. The
    /// interpolator tracks the lower envelope of <c>arrival − stamp</c> (the fastest path seen):
    /// it follows a smaller value at once and drifts slowly towards larger ones, so jitter does
    /// not shake the arm while clock drift is still followed. A sample rendered
    /// <see cref="RenderDelayMs"/> behind that envelope is normally already here; when it is not,
    /// the arm is extrapolated with the joint velocities for at most
    /// <see cref="MaxExtrapolationMs"/>, then held.
    ///
    /// Thread-safe: <see cref="Push"/> may run on the thread that decodes patches and
    /// <see cref="Sample"/> on the render thread. No Unity API is used (tested outside Unity).
    /// </summary>
    public sealed class JointInterpolator
    {
        private sealed class Slot
        {
            public double Stamp;
            public int Count;
            public string[] Names = new string[0];
            public float[] Positions = new float[0];
            public float[] Velocities = new float[0];
            public float Gripper;
        }

        private readonly object _lock = new object();
        private readonly Slot[] _ring;
        private int _head;   // index of the newest sample
        private int _size;
        private bool _hasOffset;
        private double _offsetMs;
        private int _namesVersion;

        /// <summary>How far behind the newest expected sample the arm is rendered, ms.</summary>
        public double RenderDelayMs = 50;
        /// <summary>Longest extrapolation past the newest sample before holding it, ms.</summary>
        public double MaxExtrapolationMs = 100;
        /// <summary>Cubic Hermite between samples using the joint velocities (else linear).</summary>
        public bool UseVelocities = true;
        /// <summary>How fast the clock-offset estimate rises towards later arrivals, per sample (0..1).</summary>
        public double OffsetRiseRate = 0.002;
        /// <summary>A jump of the offset beyond this (ms) is taken as a clock change: history is dropped.</summary>
        public double ResetThresholdMs = 2000;

        public JointInterpolator(int capacity = 32)
        {
            if (capacity < 2) capacity = 2;
            _ring = new Slot[capacity];
            for (int i = 0; i < capacity; i++) _ring[i] = new Slot();
        }

        /// <summary>Number of buffered samples.</summary>
        public int Count { get { lock (_lock) return _size; } }

        /// <summary>Current estimate of <c>arrival − stamp</c>, ms (0 before the first sample).</summary>
        public double OffsetMs { get { lock (_lock) return _offsetMs; } }

        /// <summary>Bumped whenever the joint names (or their count) change.</summary>
        public int NamesVersion { get { lock (_lock) return _namesVersion; } }

        /// <summary>Drops every sample and the clock estimate.</summary>
        public void Clear()
        {
            lock (_lock)
            {
                _size = 0;
                _hasOffset = false;
                _offsetMs = 0;
            }
        }

        /// <summary>
        /// Adds one sample of the arm. A sample whose stamp is not newer than the newest one is
        /// ignored (a patch that changed something else); a stamp that goes backwards by more
        /// than <see cref="ResetThresholdMs"/> (the cell restarted) starts the history afresh.
        /// </summary>
        /// <param name="stampMs">The cell's stamp, ms since the epoch; 0 or less = use the arrival time.</param>
        /// <param name="arrivalMs">Local monotonic time of arrival, ms.</param>
        /// <param name="count">Number of joints in the arrays.</param>
        /// <param name="names">Joint names, group order.</param>
        /// <param name="positions">Joint positions, rad (or m for prismatic joints).</param>
        /// <param name="velocities">Joint velocities, rad/s (may be null).</param>
        /// <param name="gripper">Opening between the fingers, m.</param>
        public void Push(double stampMs, double arrivalMs, int count, string[] names, float[] positions, float[] velocities, float gripper)
        {
            if (count < 0 || names == null || positions == null || names.Length < count || positions.Length < count) return;
            if (velocities != null && velocities.Length < count) velocities = null;
            double stamp = stampMs > 0 ? stampMs : arrivalMs;
            lock (_lock)
            {
                if (_size > 0)
                {
                    double newest = _ring[_head].Stamp;
                    if (stamp <= newest)
                    {
                        if (newest - stamp < ResetThresholdMs) return;
                        _size = 0;
                        _hasOffset = false;
                    }
                }

                double offset = arrivalMs - stamp;
                if (!_hasOffset || offset < _offsetMs)
                {
                    _offsetMs = offset;
                    _hasOffset = true;
                }
                else if (offset - _offsetMs > ResetThresholdMs)
                {
                    _offsetMs = offset;
                    _size = 0;
                }
                else
                {
                    _offsetMs += (offset - _offsetMs) * OffsetRiseRate;
                }

                int next = _size == 0 ? _head : (_head + 1) % _ring.Length;
                Slot slot = _ring[next];
                if (slot.Names.Length < count)
                {
                    slot.Names = new string[count];
                    slot.Positions = new float[count];
                    slot.Velocities = new float[count];
                }
                bool namesChanged = _size == 0 ? true : !SameNames(_ring[_head], names, count);
                slot.Stamp = stamp;
                slot.Count = count;
                slot.Gripper = gripper;
                for (int i = 0; i < count; i++)
                {
                    slot.Names[i] = names[i];
                    slot.Positions[i] = positions[i];
                    slot.Velocities[i] = velocities != null ? velocities[i] : 0f;
                }
                if (namesChanged) _namesVersion++;
                _head = next;
                if (_size < _ring.Length) _size++;
            }
        }

        /// <summary>
        /// Copies the joint names of the newest sample into <paramref name="names"/> (grown as
        /// needed); returns their count (0 before the first sample).
        /// </summary>
        public int CopyNames(ref string[] names)
        {
            lock (_lock)
            {
                if (_size == 0) return 0;
                Slot s = _ring[_head];
                if (names == null || names.Length < s.Count) names = new string[s.Count];
                Array.Copy(s.Names, names, s.Count);
                return s.Count;
            }
        }

        /// <summary>
        /// The arm at local time <paramref name="nowMs"/> (minus <see cref="RenderDelayMs"/>),
        /// indexed like the newest sample's names.
        /// </summary>
        /// <param name="nowMs">Local monotonic time, ms (the clock given to <see cref="Push"/>).</param>
        /// <param name="positions">Receives the positions (grown as needed).</param>
        /// <param name="gripper">Receives the gripper opening, m.</param>
        /// <returns>Number of joints written; 0 when there is nothing yet.</returns>
        public int Sample(double nowMs, ref float[] positions, out float gripper)
        {
            gripper = 0f;
            lock (_lock)
            {
                if (_size == 0) return 0;
                Slot newest = _ring[_head];
                int n = newest.Count;
                if (positions == null || positions.Length < n) positions = new float[n];
                double t = nowMs - RenderDelayMs - _offsetMs;

                if (t >= newest.Stamp || _size == 1)
                {
                    double ahead = Math.Min(Math.Max(t - newest.Stamp, 0), MaxExtrapolationMs) / 1000.0;
                    for (int i = 0; i < n; i++)
                    {
                        positions[i] = UseVelocities
                            ? (float)(newest.Positions[i] + newest.Velocities[i] * ahead)
                            : newest.Positions[i];
                    }
                    gripper = newest.Gripper;
                    return n;
                }

                // Walk back from the newest to the pair (a, b) with a.Stamp <= t < b.Stamp.
                Slot b = newest;
                for (int k = 1; k < _size; k++)
                {
                    Slot a = _ring[(_head - k + _ring.Length) % _ring.Length];
                    if (a.Stamp <= t)
                    {
                        Interpolate(a, b, newest, t, positions, n, out gripper);
                        return n;
                    }
                    b = a;
                }

                // Older than everything buffered: hold the oldest (if it has the same joints).
                Slot oldest = b;
                Slot held = SameNames(oldest, newest.Names, n) ? oldest : newest;
                Array.Copy(held.Positions, positions, n);
                gripper = held.Gripper;
                return n;
            }
        }

        private void Interpolate(Slot a, Slot b, Slot newest, double t, float[] positions, int n, out float gripper)
        {
            double dt = (b.Stamp - a.Stamp) / 1000.0;
            double s = dt > 0 ? ((t - a.Stamp) / 1000.0) / dt : 1.0;
            if (s < 0) s = 0;
            if (s > 1) s = 1;
            gripper = (float)(a.Gripper + (b.Gripper - a.Gripper) * s);
            if (!SameNames(a, newest.Names, n) || !SameNames(b, newest.Names, n))
            {
                // The joint set changed inside the window: show the newest sample as it is.
                Array.Copy(newest.Positions, positions, n);
                return;
            }
            for (int i = 0; i < n; i++)
            {
                double p0 = a.Positions[i], p1 = b.Positions[i];
                float v0 = a.Velocities[i], v1 = b.Velocities[i];
                // Exactly zero at both ends while moving means "not reported" (some cells send
                // empty velocity arrays): ease-in/ease-out would make the arm stutter, so go linear.
                bool reported = v0 != 0f || v1 != 0f || p0 == p1;
                if (UseVelocities && reported)
                {
                    double s2 = s * s, s3 = s2 * s;
                    double h00 = 2 * s3 - 3 * s2 + 1, h10 = s3 - 2 * s2 + s;
                    double h01 = -2 * s3 + 3 * s2, h11 = s3 - s2;
                    positions[i] = (float)(h00 * p0 + h10 * dt * v0 + h01 * p1 + h11 * dt * v1);
                }
                else
                {
                    positions[i] = (float)(p0 + (p1 - p0) * s);
                }
            }
        }

        private static bool SameNames(Slot slot, string[] names, int count)
        {
            if (slot.Count != count) return false;
            for (int i = 0; i < count; i++)
            {
                if (!string.Equals(slot.Names[i], names[i], StringComparison.Ordinal)) return false;
            }
            return true;
        }
    }
}
