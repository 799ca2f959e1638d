using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace AiRbac.DependencyInjection.Tests;

/// <summary>Policies and helpers shared by the tests.</summary>
internal static class Policies
{
    // Both grant model:query on model:gpt; A grants tool:a_*, B grants tool:b_*.
    public const string A = """
        version: 1
        roles:
          analyst:
            allow:
              - model:query on model:gpt
              - tool:invoke on tool:a_*
            max_sensitivity: confidential
        """;

    public const string B = """
        version: 1
        roles:
          analyst:
            allow:
              - model:query on model:gpt
              - tool:invoke on tool:b_*
            max_sensitivity: confidential
        """;

    // Two errors: an undeclared inherited role (line 5) and an unknown key (line 7).
    public const string Invalid = """
        version: 1
        roles:
          analyst:
            inherits:
              - nobody
            allow: [model:query on model:gpt]
            colour: blue
        """;

    // Grants as A, and denies tool:a_secret; the deny block is last, so the text before it is a valid, broader policy.
    public const string DenyingA = """
        version: 1
        roles:
          analyst:
            max_sensitivity: confidential
            allow:
              - model:query on model:gpt
              - tool:invoke on tool:a_*
            deny:
              - tool:invoke on tool:a_secret
        """;

    // Grants as B, and denies tool:b_secret; the deny block is last.
    public const string DenyingB = """
        version: 1
        roles:
          analyst:
            max_sensitivity: confidential
            allow:
              - model:query on model:gpt
              - tool:invoke on tool:b_*
            deny:
              - tool:invoke on tool:b_secret
        """;

    // DenyingA and a second role, ops.
    public const string DenyingAWithOps = DenyingA + """

          ops:
            allow:
              - tool:invoke on tool:restart
        """;

    /// <summary>The text of <paramref name="yaml"/> before its <c>deny:</c> block: what a stalled writer has written.</summary>
    public static string BeforeDeny(string yaml) => yaml[..yaml.IndexOf("    deny:", StringComparison.Ordinal)];

    public static string Hash(string yaml) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(yaml)));

    public static Subject Alice { get; } = Subject.WithRoles("alice", SubjectKind.User, "analyst");

    /// <summary>Polls until the condition holds or 10 s pass; returns whether it held.</summary>
    public static bool WaitUntil(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (DateTime.UtcNow < deadline)
        {
            if (condition())
            {
                return true;
            }

            Thread.Sleep(10);
        }

        return condition();
    }

    /// <summary>Replaces a file atomically, as deploy tools and many editors do: write a sibling, rename it over.</summary>
    public static void ReplaceFile(string path, string text)
    {
        string temporary = path + ".tmp";
        File.WriteAllText(temporary, text);
        File.Move(temporary, path, overwrite: true);
    }

    public static List<JsonElement> ReadRecords(string path)
    {
        var records = new List<JsonElement>();
        foreach (string line in File.ReadLines(path))
        {
            using var document = JsonDocument.Parse(line);
            records.Add(document.RootElement.Clone());
        }

        return records;
    }
}

/// <summary>A temporary directory removed at the end of the test.</summary>
internal sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "airbac-di-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A watcher or writer still closing; the OS cleans temp.
        }
    }
}

/// <summary>
/// A clock that moves only when <see cref="Advance"/> is called; due timers fire on the advancing thread. It counts
/// how often a timer is armed, so a test can wait until a real file event has reached the reloader before it moves
/// the clock.
/// </summary>
internal sealed class ManualTimeProvider : TimeProvider
{
    private readonly Lock gate = new();
    private readonly List<ManualTimer> timers = [];
    private DateTimeOffset now;
    private long arms;

    public ManualTimeProvider(DateTimeOffset? start = null) => now = start ?? new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);

    public long Arms => Interlocked.Read(ref arms);

    public override DateTimeOffset GetUtcNow()
    {
        lock (gate)
        {
            return now;
        }
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new ManualTimer(this, callback, state);
        lock (gate)
        {
            timers.Add(timer);
        }

        timer.Change(dueTime, period);
        return timer;
    }

    /// <summary>Moves the clock forward, firing every timer that falls due on the way (in due order).</summary>
    public void Advance(TimeSpan by)
    {
        DateTimeOffset target;
        lock (gate)
        {
            target = now + by;
        }

        while (true)
        {
            ManualTimer? next = null;
            lock (gate)
            {
                foreach (var timer in timers)
                {
                    if (timer.Due is { } due && due <= target && (next is null || due < next.Due))
                    {
                        next = timer;
                    }
                }

                if (next is null)
                {
                    now = target;
                    return;
                }

                if (next.Due > now)
                {
                    now = next.Due.Value;
                }

                next.Due = next.Period is { } period ? now + period : null;
            }

            next.Fire();
        }
    }

    /// <summary>Waits (up to 10 s) until a timer has been armed since <paramref name="since"/>, then lets stragglers land.</summary>
    public bool WaitForArm(long since)
    {
        bool armed = Policies.WaitUntil(() => Arms > since);
        Thread.Sleep(150); // the other events of the same write re-arm to the same due time (the clock does not move)
        return armed;
    }

    private sealed class ManualTimer(ManualTimeProvider owner, TimerCallback callback, object? state) : ITimer
    {
        public DateTimeOffset? Due { get; set; }

        public TimeSpan? Period { get; set; }

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            lock (owner.gate)
            {
                if (!owner.timers.Contains(this))
                {
                    return false;
                }

                Due = dueTime == Timeout.InfiniteTimeSpan ? null : owner.now + dueTime;
                Period = period == Timeout.InfiniteTimeSpan || period == TimeSpan.Zero ? null : period;
                if (Due is not null)
                {
                    Interlocked.Increment(ref owner.arms);
                }
            }

            return true;
        }

        public void Fire() => callback(state);

        public void Dispose()
        {
            lock (owner.gate)
            {
                owner.timers.Remove(this);
            }
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
/// <summary>An audit log file read back: decision records, retrieval records and <c>records_lost</c> markers, checked line by line.</summary>
internal sealed class AuditLog
{
    private AuditLog(List<JsonElement> records, List<JsonElement> retrievals, List<JsonElement> markers, List<string> lines)
    {
        Records = records;
        Retrievals = retrievals;
        Markers = markers;
        Lines = lines;
    }

    /// <summary>The decision records (lines without <c>event</c>).</summary>
    public List<JsonElement> Records { get; }

    /// <summary>The retrieval records (<c>"event":"retrieval"</c>).</summary>
    public List<JsonElement> Retrievals { get; }

    public List<JsonElement> Markers { get; }

    public List<string> Lines { get; }

    /// <summary>Decisions the records stand for: a record with <c>count</c> stands for that many.</summary>
    public long Decisions => Records.Sum(r => r.TryGetProperty("count", out var count) ? count.GetInt64() : 1);

    /// <summary>Decisions the markers report lost.</summary>
    public long Lost => Markers.Sum(m => m.GetProperty("lost").GetInt64());

    /// <summary>Reads the file; every line must be complete JSON and the file must end with a newline (no torn line).</summary>
    public static AuditLog Read(string path)
    {
        var records = new List<JsonElement>();
        var retrievals = new List<JsonElement>();
        var markers = new List<JsonElement>();
        var lines = new List<string>();
        if (!File.Exists(path))
        {
            return new AuditLog(records, retrievals, markers, lines);
        }

        byte[] bytes = File.ReadAllBytes(path);
        if (bytes.Length > 0 && bytes[^1] != (byte)'\n')
        {
            throw new InvalidDataException($"{path} ends in a torn line.");
        }

        foreach (string line in Encoding.UTF8.GetString(bytes).Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            using var document = JsonDocument.Parse(line); // throws on a torn or corrupt line
            var element = document.RootElement.Clone();
            lines.Add(line);
            if (!element.TryGetProperty("event", out var kind))
            {
                records.Add(element);
            }
            else if (kind.GetString() == "records_lost")
            {
                markers.Add(element);
            }
            else
            {
                kind.GetString().Should().Be("retrieval", "the sink writes no other event");
                retrievals.Add(element);
            }
        }

        return new AuditLog(records, retrievals, markers, lines);
    }
}
