using System.Buffers;
using System.Globalization;
using System.Numerics;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace AiRbac;

/// <summary>
/// An <see cref="IAuditSink"/> that writes one JSON object per decision to a file (JSON Lines; schema in
/// <c>docs/audit-log.md</c>), rotating it by size. <see cref="OnDecision"/> copies references into a preallocated
/// ring of slots (no string is copied, nothing is allocated, no lock is taken) and returns; a background thread
/// formats and writes. When the ring is full the record is dropped and counted, or, with
/// <see cref="AuditOverflow.Block"/>, the caller waits. <see cref="Dispose"/> writes out everything recorded before it.
/// </summary>
public sealed class JsonLinesAuditSink : IAuditSink, IDisposable
{
    private const int IdleWaitMilliseconds = 100; // also bounds the delay of a wake-up lost to a race
    private const int BlockedWaitMilliseconds = 10;
    private const int MaxCapacity = 1 << 24;

    // UnsafeRelaxedJsonEscaping keeps non-ASCII ids readable; it still escapes quotes, backslashes and control
    // characters, which is all JSON requires. The log is never embedded in HTML.
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, SkipValidation = true };

    private readonly Slot[] slots;
    private readonly long mask;
    private readonly AuditOverflow overflow;
    private readonly TimeProvider timeProvider;
    private readonly string path;
    private readonly long maxFileBytes;
    private readonly int filesKept;
    private readonly ManualResetEventSlim wake = new(false);
    private readonly SemaphoreSlim space = new(0);
    private readonly object progressGate = new();
    private readonly Thread writer;
    private readonly ArrayBufferWriter<byte> line = new(1024);
    private readonly Utf8JsonWriter json;

    private long tail;      // next position a producer claims
    private long head;      // next position the writer reads (writer thread only)
    private long flushed;   // every position below it is on disk
    private long written;
    private long dropped;
    private int idle;
    private int blockedProducers;
    private int started;
    private int disposed;
    private volatile bool stopping;
    private FileStream? file;
    private long fileLength;

    /// <summary>Creates the sink and starts its writer thread. The file is opened (and appended to) at the first record.</summary>
    /// <param name="options">The settings; <see cref="AuditLogOptions.Path"/> is required. They are copied.</param>
    /// <param name="timeProvider">The clock that stamps records, or <see langword="null"/> for <see cref="TimeProvider.System"/>.</param>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">The path is missing, or a number is out of range.</exception>
    public JsonLinesAuditSink(AuditLogOptions options, TimeProvider? timeProvider = null)
        : this(options, timeProvider, startWriter: true)
    {
    }

    internal JsonLinesAuditSink(AuditLogOptions options, TimeProvider? timeProvider, bool startWriter)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (string.IsNullOrEmpty(options.Path))
        {
            throw new ArgumentException("The audit log needs a file path (AuditLogOptions.Path).", nameof(options));
        }

        if (options.Capacity < 1 || options.Capacity > MaxCapacity)
        {
            throw new ArgumentException($"AuditLogOptions.Capacity must be between 1 and {MaxCapacity}.", nameof(options));
        }

        if (options.MaxFileBytes < 1 || options.FilesKept < 0)
        {
            throw new ArgumentException("AuditLogOptions.MaxFileBytes must be positive and FilesKept not negative.", nameof(options));
        }

        path = System.IO.Path.GetFullPath(options.Path);
        maxFileBytes = options.MaxFileBytes;
        filesKept = options.FilesKept;
        overflow = options.Overflow;
        this.timeProvider = timeProvider ?? TimeProvider.System;

        int capacity = (int)BitOperations.RoundUpToPowerOf2((uint)options.Capacity);
        slots = new Slot[capacity];
        mask = capacity - 1;
        for (int i = 0; i < capacity; i++)
        {
            slots[i].Sequence = i;
        }

        json = new Utf8JsonWriter(line, WriterOptions);
        writer = new Thread(WriterLoop) { IsBackground = true, Name = "AiRbac audit writer" };
        if (startWriter)
        {
            StartWriter();
        }
    }

    /// <summary>The log file's full path.</summary>
    public string Path => path;

    /// <summary>How many records the ring holds.</summary>
    public int Capacity => slots.Length;

    /// <inheritdoc/>
    public long RecordsWritten => Interlocked.Read(ref written);

    /// <inheritdoc/>
    public long RecordsDropped => Interlocked.Read(ref dropped);

    /// <summary>Hands the record to the writer: never allocates; never waits unless the overflow policy is <see cref="AuditOverflow.Block"/>.</summary>
    /// <param name="record">The decision.</param>
    public void OnDecision(in DecisionRecord record)
    {
        if (stopping)
        {
            Interlocked.Increment(ref dropped);
            return;
        }

        long ticks = timeProvider.GetUtcNow().UtcTicks;
        if (TryEnqueue(in record, ticks))
        {
            WakeWriterIfIdle();
        }
        else if (overflow == AuditOverflow.Block)
        {
            EnqueueBlocking(in record, ticks);
        }
        else
        {
            Interlocked.Increment(ref dropped);
        }
    }

    /// <inheritdoc/>
    public void Flush()
    {
        long target = Interlocked.Read(ref tail);
        lock (progressGate)
        {
            while (Interlocked.Read(ref flushed) < target && writer.IsAlive)
            {
                wake.Set();
                Monitor.Wait(progressGate, IdleWaitMilliseconds);
            }
        }
    }

    /// <summary>Writes out every record handed over before the call, stops the writer and closes the file. Later records are dropped and counted.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref disposed, 1) != 0)
        {
            return;
        }

        stopping = true;
        StartWriter(); // a writer held back by a test still drains
        wake.Set();
        writer.Join();
    }

    internal void StartWriter()
    {
        if (Interlocked.Exchange(ref started, 1) == 0)
        {
            writer.Start();
        }
    }

    // A bounded multi-producer, single-consumer ring (Vyukov): a slot's sequence says whose turn it is. A producer
    // claims a position with one compare-and-swap on the tail, fills the slot, then publishes it by advancing the
    // slot's sequence; the writer frees it by advancing the sequence by the capacity.
    private bool TryEnqueue(in DecisionRecord record, long ticks)
    {
        long position = Volatile.Read(ref tail);
        while (true)
        {
            ref Slot slot = ref slots[position & mask];
            long difference = Volatile.Read(ref slot.Sequence) - position;
            if (difference == 0)
            {
                long observed = Interlocked.CompareExchange(ref tail, position + 1, position);
                if (observed == position)
                {
                    slot.Ticks = ticks;
                    slot.Subject = record.Subject;
                    slot.Action = record.Action;
                    slot.Resource = record.Resource;
                    slot.Decision = record.Decision;
                    slot.Version = record.Version;
                    Volatile.Write(ref slot.Sequence, position + 1);
                    return true;
                }

                position = observed;
            }
            else if (difference < 0)
            {
                return false; // full: the slot still holds a record from one lap ago
            }
            else
            {
                position = Volatile.Read(ref tail);
            }
        }
    }

    private void EnqueueBlocking(in DecisionRecord record, long ticks)
    {
        var spinner = default(SpinWait);
        while (true)
        {
            if (stopping)
            {
                Interlocked.Increment(ref dropped);
                return;
            }

            if (TryEnqueue(in record, ticks))
            {
                WakeWriterIfIdle();
                return;
            }

            if (spinner.Count < 20)
            {
                spinner.SpinOnce(sleep1Threshold: -1);
                continue;
            }

            Interlocked.Increment(ref blockedProducers);
            wake.Set();
            space.Wait(BlockedWaitMilliseconds); // timed: a release that raced with the increment costs at most this
            Interlocked.Decrement(ref blockedProducers);
        }
    }

    private void WakeWriterIfIdle()
    {
        if (Volatile.Read(ref idle) != 0 && Interlocked.Exchange(ref idle, 0) != 0)
        {
            wake.Set();
        }
    }

    private void WriterLoop()
    {
        while (true)
        {
            int count = 0;
            while (TryWriteOne())
            {
                if ((++count & 255) == 0)
                {
                    ReleaseBlockedProducers();
                }
            }

            if (count > 0)
            {
                FlushFile();
                ReleaseBlockedProducers();
                continue;
            }

            if (stopping && head == Interlocked.Read(ref tail))
            {
                break;
            }

            Interlocked.Exchange(ref idle, 1);
            if (IsPublished(head))
            {
                Volatile.Write(ref idle, 0);
                continue;
            }

            wake.Wait(IdleWaitMilliseconds);
            wake.Reset();
            Volatile.Write(ref idle, 0);
        }

        FlushFile();
        CloseFile();
    }

    private bool IsPublished(long position) => Volatile.Read(ref slots[position & mask].Sequence) == position + 1;

    private bool TryWriteOne()
    {
        ref Slot slot = ref slots[head & mask];
        if (Volatile.Read(ref slot.Sequence) != head + 1)
        {
            return false; // empty, or claimed and not yet published
        }

        try
        {
            Format(ref slot);
            WriteLine(line.WrittenSpan);
            Interlocked.Increment(ref written);
        }
#pragma warning disable CA1031 // Reason: the writer thread must outlive any failure (disk full, permissions): a record it cannot write is counted as dropped, and the next one reopens the file.
        catch (Exception)
#pragma warning restore CA1031
        {
            Interlocked.Increment(ref dropped);
            CloseFile();
        }

        slot.Subject = null; // let the subject and policy go
        slot.Action = null;
        slot.Resource = default;
        slot.Decision = default;
        slot.Version = null;
        Volatile.Write(ref slot.Sequence, head + slots.Length);
        head++;
        return true;
    }

    private void ReleaseBlockedProducers()
    {
        int blocked = Volatile.Read(ref blockedProducers);
        if (blocked > 0 && space.CurrentCount == 0)
        {
            space.Release(blocked);
        }
    }

    private void Format(ref Slot slot)
    {
        line.ResetWrittenCount();
        json.Reset(line);
        json.WriteStartObject();
        WriteTime("time"u8, slot.Ticks);
        var version = slot.Version ?? PolicyVersion.None;
        json.WriteString("policy_version"u8, version.ContentHash);
        WriteTime("policy_loaded_at"u8, version.LoadedAt.UtcTicks);

        var subject = slot.Subject;
        json.WriteString("subject"u8, subject?.Id ?? string.Empty);
        if (subject?.Kind is { } kind)
        {
            json.WriteString("kind"u8, kind switch { SubjectKind.Service => "service", SubjectKind.Agent => "agent", _ => "user" });
        }

        if (subject?.Roles is { } roles)
        {
            json.WriteStartArray("roles"u8);
            foreach (var binding in roles)
            {
                json.WriteStringValue(binding.Role);
            }

            json.WriteEndArray();
        }

        if (subject?.OnBehalfOf is { } principal)
        {
            json.WriteStartArray("on_behalf_of"u8);
            for (var link = principal; link is not null; link = link.OnBehalfOf)
            {
                json.WriteStringValue(link.Id);
            }

            json.WriteEndArray();
        }

        json.WriteString("action"u8, slot.Action ?? string.Empty);
        json.WriteString("resource"u8, slot.Resource.Name ?? string.Empty);
        if (slot.Resource.Scope is { } scope)
        {
            json.WriteString("scope"u8, scope);
        }

        if (slot.Resource.Sensitivity is { } sensitivity)
        {
            json.WriteString("sensitivity"u8, sensitivity);
        }

        if (!slot.Resource.Tags.IsEmpty)
        {
            json.WriteStartArray("tags"u8);
            foreach (string tag in slot.Resource.Tags.Span)
            {
                json.WriteStringValue(tag);
            }

            json.WriteEndArray();
        }

        var decision = slot.Decision;
        json.WriteBoolean("allowed"u8, decision.Allowed);
        json.WriteString("reason"u8, decision.ReasonName);
        if (decision.Role is { } role)
        {
            json.WriteString("role"u8, role);
        }

        if (decision.Rule is { } rule)
        {
            json.WriteString("rule"u8, rule);
        }

        json.WriteEndObject();
        json.Flush();
        line.Write("\n"u8);
    }

    // RFC 3339 in UTC, as Rfc3339.Format writes it (fractional seconds only when present), without a string.
    private void WriteTime(ReadOnlySpan<byte> name, long utcTicks)
    {
        var utc = new DateTime(utcTicks, DateTimeKind.Utc);
        Span<char> text = stackalloc char[32];
        string format = utcTicks % TimeSpan.TicksPerSecond == 0 ? "yyyy-MM-dd'T'HH:mm:ss'Z'" : "yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'";
        utc.TryFormat(text, out int length, format, CultureInfo.InvariantCulture);
        json.WriteString(name, text[..length]);
    }

    private void WriteLine(ReadOnlySpan<byte> bytes)
    {
        if (file is not null && fileLength > 0 && fileLength + bytes.Length > maxFileBytes)
        {
            Rotate();
        }

        if (file is null)
        {
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
            file = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read | FileShare.Delete, 64 * 1024);
            fileLength = file.Length;
            if (fileLength > 0 && fileLength + bytes.Length > maxFileBytes)
            {
                Rotate();
                file = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read | FileShare.Delete, 64 * 1024);
                fileLength = 0;
            }
        }

        file.Write(bytes);
        fileLength += bytes.Length;
    }

    // audit.jsonl -> audit.jsonl.1 -> audit.jsonl.2 ... ; the oldest beyond FilesKept is deleted.
    private void Rotate()
    {
        CloseFile();
        if (filesKept == 0)
        {
            File.Delete(path);
            return;
        }

        File.Delete(Rotated(filesKept));
        for (int i = filesKept - 1; i >= 1; i--)
        {
            if (File.Exists(Rotated(i)))
            {
                File.Move(Rotated(i), Rotated(i + 1), overwrite: true);
            }
        }

        File.Move(path, Rotated(1), overwrite: true);
    }

    private string Rotated(int index) => string.Create(CultureInfo.InvariantCulture, $"{path}.{index}");

    private void FlushFile()
    {
        try
        {
            file?.Flush();
        }
        catch (IOException)
        {
            CloseFile(); // the records were counted as written when handed to the stream; the next record reopens
        }

        lock (progressGate)
        {
            Interlocked.Exchange(ref flushed, head);
            Monitor.PulseAll(progressGate);
        }
    }

    private void CloseFile()
    {
        var closing = file;
        file = null;
        fileLength = 0;
        try
        {
            closing?.Dispose();
        }
        catch (IOException)
        {
            // Nothing more can be done with a stream that cannot flush on close.
        }
    }

    // References only: filling a slot copies no string and allocates nothing.
    private struct Slot
    {
        public long Sequence;
        public long Ticks;
        public Subject? Subject;
        public string? Action;
        public ResourceRequest Resource;
        public Decision Decision;
        public PolicyVersion? Version;
    }
}
