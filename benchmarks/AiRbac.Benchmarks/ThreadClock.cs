using System.Diagnostics;
using System.Runtime.InteropServices;

namespace AiRbac.Benchmarks;

/// <summary>
/// The calling thread's CPU time (Linux <c>clock_gettime(CLOCK_THREAD_CPUTIME_ID)</c>), for the profiling driver: on a
/// machine shared with other processes, wall time counts the time the thread waited for a core, CPU time does not.
/// Elsewhere it falls back to wall time (<see cref="IsCpuTime"/> false).
/// </summary>
internal static class ThreadClock
{
    private const int ClockThreadCpuTime = 3;

    /// <summary>Whether <see cref="Nanoseconds"/> reads the thread's CPU time (else wall time).</summary>
    public static bool IsCpuTime { get; } = OperatingSystem.IsLinux() && Probe();

    /// <summary>Now, in nanoseconds, on the thread's CPU clock (or the wall clock).</summary>
    /// <returns>Nanoseconds since an arbitrary origin.</returns>
    public static long Nanoseconds()
    {
        if (IsCpuTime && ClockGetTime(ClockThreadCpuTime, out var now) == 0)
        {
            return (now.Seconds * 1_000_000_000L) + now.Nanoseconds;
        }

        return (long)(Stopwatch.GetTimestamp() * (1e9 / Stopwatch.Frequency));
    }

    private static bool Probe()
    {
        try
        {
            return ClockGetTime(ClockThreadCpuTime, out _) == 0;
        }
        catch (DllNotFoundException)
        {
            return false;
        }
        catch (EntryPointNotFoundException)
        {
            return false;
        }
    }

    [DllImport("libc", EntryPoint = "clock_gettime")]
    private static extern int ClockGetTime(int clock, out TimeSpec time);

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }
}
