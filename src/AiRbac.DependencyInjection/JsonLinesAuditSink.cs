using System.Buffers;
using System.Globalization;
using System.Numerics;
using System.Text.Unicode;

namespace AiRbac;

/// <summary>
/// An <see cref="IAuditSink"/> that writes one JSON object per decision, and one per filtered retrieval query
/// (<see cref="IRetrievalObserver"/>), to a file (JSON Lines; schema in <c>docs/audit-log.md</c>), rotating it by size. <see cref="OnDecision"/> copies the record into a preallocated
/// ring of slots (references to immutable values, and the tag references into a per-slot array: nothing is
/// allocated, no lock is taken) and returns; a background thread formats and writes. Identical decisions close
/// together become one record with a count. Every decision handed over is either in a complete line on disk or
/// counted as dropped, and every drop is also reported in the file by a <c>records_lost</c> marker line as soon as
/// the sink can write again.
/// </summary>
public sealed class JsonLinesAuditSink : IAuditSink, IRetrievalObserver, IDisposable
{
    private const int IdleWaitMilliseconds = Tuning.Hosting.AuditIdleWaitMilliseconds; // also bounds the delay of a wake-up lost to a race, and of a marker retry
    private const int BlockedWaitMilliseconds = Tuning.Hosting.AuditBlockedWaitMilliseconds;
    private const int MaxCapacity = Tuning.Hosting.AuditMaxCapacity;
    private const int MaxTagsLimit = Tuning.Hosting.AuditMaxTags;
    private const int BufferBytes = Tuning.Hosting.AuditBufferBytes;
    private const int MarkerBound = Tuning.Hosting.AuditMarkerBytes;
    private const long ClosedBit = 1L << 62; // set on the tail by Dispose: no position can be claimed after it

    // The version of the record schema, written as "schema" on every decision record (docs/audit-log.md): records
    // without it were written before they carried everything a replay needs (binding scopes and expiry, the chain's
    // kinds and roles, the owner). Raise it when a decision input is added to the record.
    private const int RecordSchema = 2;

    // The fixed text of a binding written as an object ({"role":,"scope":,"expires":"…"}), of a chain link
    // ({"subject":,"kind":"service","roles":[]}) and of the shadow fields without their strings: layout sizes.
    private const int BindingBytes = 80;
    private const int LinkBytes = 64;
    private const int ShadowBytes = 192;

    // Characters a JSON string must escape, plus every character unsafe to print (the same set as the core's rule for
    // diagnostics: DEL, the C1 controls, bidirectional formatting characters and the line and paragraph separators),
    // so that `tail` or a log viewer never shows an id from a hostile claim raw. Lone surrogates are found by the
    // UTF-8 transcoder.
    private static readonly SearchValues<char> Escaped = SearchValues.Create(
        "\u0000\u0001\u0002\u0003\u0004\u0005\u0006\u0007\u0008\u0009\u000A\u000B\u000C\u000D\u000E\u000F"
        + "\u0010\u0011\u0012\u0013\u0014\u0015\u0016\u0017\u0018\u0019\u001A\u001B\u001C\u001D\u001E\u001F\"\\\u007F"
        + "\u0080\u0081\u0082\u0083\u0084\u0085\u0086\u0087\u0088\u0089\u008A\u008B\u008C\u008D\u008E\u008F"
        + "\u0090\u0091\u0092\u0093\u0094\u0095\u0096\u0097\u0098\u0099\u009A\u009B\u009C\u009D\u009E\u009F"
        + "\u061C\u200E\u200F\u2028\u2029\u202A\u202B\u202C\u202D\u202E\u2066\u2067\u2068\u2069");

    private readonly Slot[] slots;
    private readonly string?[] tagStore; // slot i keeps its tags in [i * maxTags, (i + 1) * maxTags)
    private readonly int maxTags;
    private readonly long mask;
    private readonly long coalesceTicks;
    private readonly AuditOverflow overflow;
    private readonly TimeProvider timeProvider;
    private readonly string path;
    private readonly long maxFileBytes;
    private readonly int filesKept;
    private readonly ManualResetEventSlim wake = new(false);
    private readonly SemaphoreSlim space = new(0);
    private readonly object progressGate = new();
    private readonly Thread writer;

    private long tail;      // next position a producer claims; ClosedBit once disposed
    private long head;      // next position the writer reads (writer thread only)
    private long flushed;   // every position below it is written or counted as dropped
    private long written;
    private long dropped;
    private int idle;
    private int blockedProducers;
    private int started;
    private int disposed;
    private volatile bool stopping;

    // Decisions dropped and not yet reported by a marker line that reached the file; guarded by lossGate.
    private int lossGate;
    private long pendingLost;
    private long pendingFirst;
    private long pendingLast;

    // Writer thread only: the output buffer and what its bytes stand for.
    private byte[] buffer = new byte[BufferBytes];
    private int buffered;
    private long bufferDecisions;
    private long bufferFirst = long.MaxValue;
    private long bufferLast = long.MinValue;
    private long bufferMarkerLost;
    private long bufferMarkerFirst = long.MaxValue;
    private long bufferMarkerLast = long.MinValue;
    private PolicyVersion? cachedVersion;
    private byte[] cachedVersionBytes = [];

    private FileStream? file;
    private long fileLength; // bytes of the open file known to end with a complete line
    private string? fileIdentity; // what /proc/self/fd/N named when the file was opened

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

        if (options.CoalesceWindow < TimeSpan.Zero)
        {
            throw new ArgumentException("AuditLogOptions.CoalesceWindow must not be negative.", nameof(options));
        }

        if (options.MaxTags < 0 || options.MaxTags > MaxTagsLimit)
        {
            throw new ArgumentException($"AuditLogOptions.MaxTags must be between 0 and {MaxTagsLimit}.", nameof(options));
        }

        path = System.IO.Path.GetFullPath(options.Path);
        maxFileBytes = options.MaxFileBytes;
        filesKept = options.FilesKept;
        overflow = options.Overflow;
        coalesceTicks = options.CoalesceWindow.Ticks;
        maxTags = options.MaxTags;
        this.timeProvider = timeProvider ?? TimeProvider.System;

        int capacity = (int)BitOperations.RoundUpToPowerOf2((uint)options.Capacity);
        if ((long)capacity * options.MaxTags > Array.MaxLength)
        {
            throw new ArgumentException("AuditLogOptions.Capacity times MaxTags is too large.", nameof(options));
        }

        slots = new Slot[capacity];
        tagStore = new string?[(long)capacity * maxTags];
        mask = capacity - 1;
        for (int i = 0; i < capacity; i++)
        {
            slots[i].Sequence = i;
        }

        writer = new Thread(WriterLoop) { IsBackground = true, Name = "AiRbac audit writer" };
        if (startWriter)
        {
            StartWriter();
        }
    }

    private enum Enqueued
    {
        Done,
        Full,
        Closed,
    }

    private enum FileState
    {
        Same,
        Deleted,
        Moved,
    }

    /// <summary>The log file's full path.</summary>
    public string Path => path;

    /// <summary>How many records the ring holds.</summary>
    public int Capacity => slots.Length;

    /// <summary>How many records (decisions and retrieval queries) are in complete lines handed to the operating system (a line with <c>"count":N</c> counts N).</summary>
    public long RecordsWritten => Interlocked.Read(ref written);

    /// <summary>
    /// How many records (decisions and retrieval queries) were lost: ring full, a failed write, or handed over after <see cref="Dispose"/>. Each is
    /// also reported by a <c>records_lost</c> line in the file once the sink can write again (not after disposal).
    /// </summary>
    public long RecordsDropped => Interlocked.Read(ref dropped);

    /// <summary>Hands the record to the writer: never allocates; never waits unless the overflow policy is <see cref="AuditOverflow.Block"/>.</summary>
    /// <param name="record">The decision.</param>
    public void OnDecision(in DecisionRecord record)
    {
        long ticks = timeProvider.GetUtcNow().UtcTicks;
        if (stopping)
        {
            Drop(ticks);
            return;
        }

        ReadOnlySpan<string> tags = record.Resource.Tags.Span;
        if (coalesceTicks > 0 && TryCoalesce(in record, tags, ticks))
        {
            return;
        }

        switch (TryEnqueue(in record, tags, ticks, retrieval: null))
        {
            case Enqueued.Done:
                WakeWriterIfIdle();
                break;
            case Enqueued.Full when overflow == AuditOverflow.Block:
                EnqueueBlocking(in record, tags, ticks, retrieval: null);
                break;
            default:
                Drop(ticks);
                break;
        }
    }

    /// <summary>
    /// Hands a retrieval query's record to the writer (an <c>"event":"retrieval"</c> line, docs/audit-log.md): like a
    /// decision, it takes a slot of the ring (never coalesced), is written whole or counted as dropped and marked, and
    /// waits for a slot only under <see cref="AuditOverflow.Block"/>.
    /// </summary>
    /// <param name="record">The query; a <see langword="null"/> record is ignored.</param>
    public void OnRetrieval(RetrievalRecord record)
    {
        if (record is null)
        {
            return;
        }

        long ticks = timeProvider.GetUtcNow().UtcTicks;
        if (stopping)
        {
            Drop(ticks);
            return;
        }

        switch (TryEnqueue(default, default, ticks, record))
        {
            case Enqueued.Done:
                WakeWriterIfIdle();
                break;
            case Enqueued.Full when overflow == AuditOverflow.Block:
                EnqueueBlocking(default, default, ticks, record);
                break;
            default:
                Drop(ticks);
                break;
        }
    }

    /// <summary>Blocks until every record handed over before the call is written to the operating system or counted as dropped.</summary>
    public void Flush()
    {
        long target = Volatile.Read(ref tail) & ~ClosedBit;
        lock (progressGate)
        {
            while (Interlocked.Read(ref flushed) < target && writer.IsAlive)
            {
                wake.Set();
                Monitor.Wait(progressGate, IdleWaitMilliseconds);
            }
        }
    }

    /// <summary>
    /// Closes the ring, writes out every record handed over before it (waiting for records being handed over at that
    /// moment), writes a marker for any loss not yet reported, stops the writer and closes the file. Later records
    /// are counted as dropped.
    /// </summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref disposed, 1) != 0)
        {
            return;
        }

        stopping = true;
        Interlocked.Or(ref tail, ClosedBit);
        StartWriter(); // a writer held back by a test still drains
        wake.Set();
        writer.Join();
        ReleaseBlockedProducers();
    }

    internal void StartWriter()
    {
        if (Interlocked.Exchange(ref started, 1) == 0)
        {
            writer.Start();
        }
    }

    private static bool SameSubject(Subject? a, Subject? b)
    {
        while (true)
        {
            if (ReferenceEquals(a, b))
            {
                return true;
            }

            if (a is null || b is null || a.Kind != b.Kind || !string.Equals(a.Id, b.Id, StringComparison.Ordinal) || !SameRoles(a.Roles, b.Roles))
            {
                return false;
            }

            a = a.OnBehalfOf;
            b = b.OnBehalfOf;
        }
    }

    private static bool SameRoles(IReadOnlyList<RoleBinding>? a, IReadOnlyList<RoleBinding>? b)
    {
        if (ReferenceEquals(a, b))
        {
            return true;
        }

        if (a is null || b is null || a.Count != b.Count)
        {
            return false;
        }

        for (int i = 0; i < a.Count; i++)
        {
            // The record shows each binding whole (role, scope, expiry), so two records merge only when all agree.
            RoleBinding x = a[i], y = b[i];
            if (!string.Equals(x.Role, y.Role, StringComparison.Ordinal) || !string.Equals(x.Scope, y.Scope, StringComparison.Ordinal)
                || x.Expires?.UtcTicks != y.Expires?.UtcTicks)
            {
                return false;
            }
        }

        return true;
    }

    private static void Enter(ref int gate)
    {
        if (Interlocked.CompareExchange(ref gate, 1, 0) == 0)
        {
            return;
        }

        var spinner = default(SpinWait);
        do
        {
            spinner.SpinOnce(sleep1Threshold: -1);
        }
        while (Interlocked.CompareExchange(ref gate, 1, 0) != 0);
    }

    private static void Exit(ref int gate) => Volatile.Write(ref gate, 0);

    // A bounded multi-producer, single-consumer ring (Vyukov): a slot's sequence says whose turn it is. A producer
    // claims a position with one compare-and-swap on the tail, fills the slot, then publishes it by advancing the
    // slot's sequence; the writer frees it by advancing the sequence by the capacity. Dispose sets ClosedBit on the
    // tail, after which every claim fails, so the writer knows exactly which positions to wait for.
    private Enqueued TryEnqueue(in DecisionRecord record, ReadOnlySpan<string> tags, long ticks, RetrievalRecord? retrieval)
    {
        long position = Volatile.Read(ref tail);
        while (true)
        {
            if ((position & ClosedBit) != 0)
            {
                return Enqueued.Closed;
            }

            long index = position & mask;
            ref Slot slot = ref slots[index];
            long difference = Volatile.Read(ref slot.Sequence) - position;
            if (difference == 0)
            {
                long observed = Interlocked.CompareExchange(ref tail, position + 1, position);
                if (observed == position)
                {
                    if (retrieval is null)
                    {
                        Fill(ref slot, index, in record, tags, ticks);
                    }
                    else
                    {
                        Fill(ref slot, retrieval, ticks);
                    }

                    Volatile.Write(ref slot.Sequence, position + 1);
                    return Enqueued.Done;
                }

                position = observed;
            }
            else if (difference < 0)
            {
                return Enqueued.Full; // the slot still holds a record from one lap ago
            }
            else
            {
                position = Volatile.Read(ref tail);
            }
        }
    }

    private void Fill(ref Slot slot, long index, in DecisionRecord record, ReadOnlySpan<string> tags, long ticks)
    {
        slot.Ticks = ticks;
        slot.LastTicks = ticks;
        slot.Count = 1;
        slot.Sealed = false;
        slot.Subject = record.Subject;
        slot.Action = record.Action;
        var resource = record.Resource;
        slot.ResourceName = resource.Name;
        slot.Scope = resource.Scope;
        slot.Sensitivity = resource.Sensitivity;
        slot.Owner = resource.Owner;
        slot.Decision = record.Decision;
        slot.Version = record.Version;
        slot.Activation = record.Decision.BreakGlass ? record.BreakGlassActivation : null;
        slot.Approvals = record.Decision.ApprovalRule is not null ? record.Context : null;
        slot.ContextOmitted = CarriesContext(record.Context);
        slot.ApprovalMask = 0;
        if (slot.Approvals is { } context)
        {
            for (int i = 0; i < context.Approvals.Count; i++)
            {
                slot.ApprovalMask |= record.IsCountedApproval(i) ? 1 << i : 0;
            }
        }

        slot.Retrieval = null;

        // Shadow mode: only a disagreement or a failure is written, so only those are kept (and compared when merging).
        bool shadowShown = record.Shadow is ShadowOutcome.Disagreed or ShadowOutcome.Failed;
        slot.Shadow = shadowShown ? record.Shadow : ShadowOutcome.None;
        slot.ShadowDecision = shadowShown ? record.ShadowDecision : default;
        slot.ShadowVersion = shadowShown ? record.ShadowVersion : null;

        // The caller's tag buffer may be reused the moment Authorize returns: copy the references now.
        int kept = Math.Min(tags.Length, maxTags);
        var store = tagStore.AsSpan((int)(index * maxTags), kept);
        for (int i = 0; i < store.Length; i++)
        {
            store[i] = tags[i];
        }

        slot.TagCount = kept;
        slot.TagTotal = tags.Length;
    }

    // A retrieval query: the subject, action and version, for the fields it shares with a decision; the rest is read from
    // the (immutable) record when it is formatted.
    private static void Fill(ref Slot slot, RetrievalRecord retrieval, long ticks)
    {
        slot.Ticks = ticks;
        slot.LastTicks = ticks;
        slot.Count = 1;
        slot.Sealed = false;
        slot.Subject = retrieval.Subject;
        slot.Action = retrieval.Action;
        slot.ResourceName = null;
        slot.Scope = null;
        slot.Sensitivity = null;
        slot.Owner = null;
        slot.Decision = default;
        slot.Version = retrieval.Version;
        slot.Activation = null;
        slot.Approvals = null;
        slot.Retrieval = retrieval;
        slot.Shadow = ShadowOutcome.None;
        slot.ShadowDecision = default;
        slot.ShadowVersion = null;
        slot.TagCount = 0;
        slot.TagTotal = 0;
    }

    // A hot loop of identical decisions must not fill the ring: when the newest published record is the same
    // decision and has not been taken by the writer yet, count this one into it. The comparison reads the slot
    // without the gate; the gate then confirms the writer has not sealed the slot (sealing comes before it reads or
    // clears anything) and the slot has not been reused, so the fields compared were the ones published.
    private bool TryCoalesce(in DecisionRecord record, ReadOnlySpan<string> tags, long ticks)
    {
        long last = Volatile.Read(ref tail) - 1;
        if (last < 0 || (last & ClosedBit) != 0 || record.Decision.BreakGlass || record.Decision.ApprovalRule is not null)
        {
            return false; // every break-glass use, and every decision under an approval rule, is a record of its own
        }

        long index = last & mask;
        ref Slot slot = ref slots[index];
        if (Volatile.Read(ref slot.Sequence) != last + 1 || Math.Abs(ticks - slot.Ticks) > coalesceTicks || !Same(ref slot, index, in record, tags))
        {
            return false;
        }

        if (Interlocked.CompareExchange(ref slot.Gate, 1, 0) != 0)
        {
            return false; // the writer or another producer holds it: enqueue instead of waiting
        }

        bool merged = !slot.Sealed && Volatile.Read(ref slot.Sequence) == last + 1;
        if (merged)
        {
            slot.Count++;
            if (ticks < slot.Ticks)
            {
                slot.Ticks = ticks;
            }

            if (ticks > slot.LastTicks)
            {
                slot.LastTicks = ticks;
            }
        }

        Exit(ref slot.Gate);
        return merged;
    }

    private static bool SameVersion(PolicyVersion? a, PolicyVersion? b)
        => ReferenceEquals(a, b)
            || (a is not null && b is not null && a.LoadedAt == b.LoadedAt && string.Equals(a.ContentHash, b.ContentHash, StringComparison.Ordinal));

    // Whether a request's context holds anything the record leaves out (docs/audit-log.md, "Record schema").
    private static bool CarriesContext(RequestContext? context)
        => context is not null && (context.Attributes.Count > 0 || context.Activations.Count > 0 || context.Approvals.Count > 0);

    private bool Same(ref Slot slot, long index, in DecisionRecord record, ReadOnlySpan<string> tags)
    {
        if (slot.ContextOmitted != CarriesContext(record.Context))
        {
            return false;
        }

        if (slot.Retrieval is not null // a retrieval query is never counted into, nor a decision into it
            || slot.Decision != record.Decision
            || !SameVersion(slot.Version, record.Version)
            || !string.Equals(slot.Action, record.Action, StringComparison.Ordinal))
        {
            return false;
        }

        bool shadowShown = record.Shadow is ShadowOutcome.Disagreed or ShadowOutcome.Failed;
        if (slot.Shadow != (shadowShown ? record.Shadow : ShadowOutcome.None)
            || (shadowShown && (slot.ShadowDecision != record.ShadowDecision || !SameVersion(slot.ShadowVersion, record.ShadowVersion))))
        {
            return false;
        }

        var resource = record.Resource;
        if (!string.Equals(slot.ResourceName, resource.Name, StringComparison.Ordinal)
            || !string.Equals(slot.Scope, resource.Scope, StringComparison.Ordinal)
            || !string.Equals(slot.Sensitivity, resource.Sensitivity, StringComparison.Ordinal)
            || !string.Equals(slot.Owner, resource.Owner, StringComparison.Ordinal)
            || slot.TagTotal != tags.Length)
        {
            return false;
        }

        int kept = slot.TagCount;
        if (kept > tags.Length)
        {
            return false; // read while the slot was being reused; the gate check would refuse it anyway
        }

        var stored = tagStore.AsSpan((int)(index * maxTags), kept);
        for (int i = 0; i < kept; i++)
        {
            if (!string.Equals(stored[i], tags[i], StringComparison.Ordinal))
            {
                return false;
            }
        }

        return SameSubject(slot.Subject, record.Subject);
    }

    private void EnqueueBlocking(in DecisionRecord record, ReadOnlySpan<string> tags, long ticks, RetrievalRecord? retrieval)
    {
        var spinner = default(SpinWait);
        while (true)
        {
            if (stopping)
            {
                Drop(ticks);
                return;
            }

            if (retrieval is null && coalesceTicks > 0 && TryCoalesce(in record, tags, ticks))
            {
                return;
            }

            switch (TryEnqueue(in record, tags, ticks, retrieval))
            {
                case Enqueued.Done:
                    WakeWriterIfIdle();
                    return;
                case Enqueued.Closed:
                    Drop(ticks);
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

    private void Drop(long ticks)
    {
        Interlocked.Increment(ref dropped);
        AddLoss(1, ticks, ticks);
        WakeWriterIfIdle(); // so the marker is written as soon as possible
    }

    private void AddLoss(long count, long first, long last)
    {
        if (count <= 0)
        {
            return;
        }

        Enter(ref lossGate);
        if (pendingLost == 0)
        {
            pendingFirst = first;
            pendingLast = last;
        }
        else
        {
            pendingFirst = Math.Min(pendingFirst, first);
            pendingLast = Math.Max(pendingLast, last);
        }

        pendingLost += count;
        Exit(ref lossGate);
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
            while (TryTakeOne())
            {
                if ((++count & 255) == 0)
                {
                    ReleaseBlockedProducers();
                }
            }

            if (count > 0)
            {
                Commit();
                ReleaseBlockedProducers();
                continue;
            }

            long end = Volatile.Read(ref tail);
            if ((end & ClosedBit) != 0)
            {
                if (head == (end & ~ClosedBit))
                {
                    break;
                }

                Thread.Yield(); // a producer claimed a position before the ring closed and is filling it
                continue;
            }

            if (Volatile.Read(ref pendingLost) != 0)
            {
                Commit(); // the marker alone; if the disk still refuses, the idle wait below paces the retries
            }

            Interlocked.Exchange(ref idle, 1);
            if (IsPublished(head) || (Volatile.Read(ref tail) & ClosedBit) != 0)
            {
                Volatile.Write(ref idle, 0);
                continue;
            }

            wake.Wait(IdleWaitMilliseconds);
            wake.Reset();
            Volatile.Write(ref idle, 0);
        }

        Commit();
        CloseFile();
    }

    private bool IsPublished(long position) => Volatile.Read(ref slots[position & mask].Sequence) == position + 1;

    private bool TryTakeOne()
    {
        long index = head & mask;
        ref Slot slot = ref slots[index];
        if (Volatile.Read(ref slot.Sequence) != head + 1)
        {
            return false; // empty, or claimed and not yet published
        }

        Enter(ref slot.Gate);
        slot.Sealed = true; // no producer counts into it from here on
        long count = slot.Count;
        long first = slot.Ticks;
        long last = slot.LastTicks;
        Exit(ref slot.Gate);

        if (buffered == 0 && Volatile.Read(ref pendingLost) != 0)
        {
            AppendMarker(); // at most one marker starts a buffer, one ends it (Commit): losses during a burst share lines
        }

        try
        {
            Append(ref slot, index, count, first, last);
        }
#pragma warning disable CA1031 // Reason: the writer thread must outlive any failure: a record it cannot format is counted as dropped.
        catch (Exception)
#pragma warning restore CA1031
        {
            Interlocked.Add(ref dropped, count);
            AddLoss(count, first, last);
        }

        slot.Subject = null; // let the subject and policy go
        slot.Action = null;
        slot.ResourceName = null;
        slot.Scope = null;
        slot.Sensitivity = null;
        slot.Owner = null;
        slot.Decision = default;
        slot.Version = null;
        slot.Activation = null;
        slot.Approvals = null;
        slot.Retrieval = null;
        slot.ShadowDecision = default;
        slot.ShadowVersion = null;
        tagStore.AsSpan((int)(index * maxTags), slot.TagCount).Clear();
        slot.TagCount = 0;
        Volatile.Write(ref slot.Sequence, head + slots.Length);
        head++;
        return true;
    }

    // Formats one record at the end of the buffer; rotates between records; the record's decisions are added to
    // the buffer's account only once its bytes are in the buffer that will be written.
    private void Append(ref Slot slot, long index, long count, long first, long last)
    {
        EnsureSpace(Bound(ref slot, index));
        int start = buffered;
        try
        {
            Format(ref slot, index, count, first, last);
        }
        catch
        {
            buffered = start; // never leave part of a line in the buffer: the caller counts the record as dropped
            throw;
        }

        if (file is null)
        {
            TryOpen(); // to know the file's length for rotation; a failure here shows again when writing
        }

        if (file is not null && fileLength + buffered > maxFileBytes && fileLength + start > 0)
        {
            int length = buffered - start;
            buffered = start;
            WriteOut(); // everything before this record, into the current file
            try
            {
                Rotate();
            }
            catch (IOException)
            {
                CloseFile(); // the next open appends to the file as it is
            }
            catch (UnauthorizedAccessException)
            {
                CloseFile();
            }

            buffer.AsSpan(start, length).CopyTo(buffer);
            buffered = length;
        }

        bufferDecisions += count;
        bufferFirst = Math.Min(bufferFirst, first);
        bufferLast = Math.Max(bufferLast, last);
    }

    private void AppendMarker()
    {
        EnsureSpace(MarkerBound);
        Enter(ref lossGate);
        long lost = pendingLost;
        long first = pendingFirst;
        long last = pendingLast;
        pendingLost = 0;
        Exit(ref lossGate);
        if (lost == 0)
        {
            return;
        }

        Raw("{\"time\":\""u8);
        WriteTime(timeProvider.GetUtcNow().UtcTicks);
        Raw("\",\"event\":\"records_lost\",\"lost\":"u8);
        WriteNumber(lost);
        Raw(",\"first_time\":\""u8);
        WriteTime(first);
        Raw("\",\"last_time\":\""u8);
        WriteTime(last);
        Raw("\"}\n"u8);
        bufferMarkerLost += lost;
        bufferMarkerFirst = Math.Min(bufferMarkerFirst, first);
        bufferMarkerLast = Math.Max(bufferMarkerLast, last);
    }

    private void EnsureSpace(int bound)
    {
        if (buffered + bound <= buffer.Length)
        {
            return;
        }

        WriteOut();
        if (bound > buffer.Length)
        {
            buffer = new byte[BitOperations.RoundUpToPowerOf2((uint)bound)]; // one record larger than the buffer
        }
    }

    // Writes the buffer, reports progress to Flush: every position taken so far is now written or counted.
    private void Commit()
    {
        if (Volatile.Read(ref pendingLost) != 0)
        {
            AppendMarker();
        }

        WriteOut();
        lock (progressGate)
        {
            Interlocked.Exchange(ref flushed, head);
            Monitor.PulseAll(progressGate);
        }
    }

    // One write call for the whole buffer. The records in it count as written only when the call succeeded and the
    // file is still the one at Path; otherwise the file is cut back to its last complete line and they count as
    // dropped (and their marker, if the buffer carried one, goes back to be written again).
    private void WriteOut()
    {
        if (buffered == 0)
        {
            return;
        }

        bool ok = false;
        try
        {
            if (file is null)
            {
                Open();
            }

            WriteBuffer();
            switch (CheckIdentity())
            {
                case FileState.Deleted:
                    // Deleted underneath us: the bytes went to an unlinked file. Start a new one and write them again.
                    CloseFile();
                    Open();
                    WriteBuffer();
                    break;
                case FileState.Moved:
                    CloseFile(); // renamed away (external rotation): the bytes are in it; the next write starts a new file
                    break;
            }

            ok = true;
        }
#pragma warning disable CA1031 // Reason: the writer thread must outlive any failure (disk full, permissions, deleted directory): what it cannot write is counted and marked.
        catch (Exception)
#pragma warning restore CA1031
        {
            CutBack();
        }

        if (ok)
        {
            Interlocked.Add(ref written, bufferDecisions);
        }
        else
        {
            Interlocked.Add(ref dropped, bufferDecisions);
            AddLoss(bufferDecisions, bufferFirst, bufferLast);
            AddLoss(bufferMarkerLost, bufferMarkerFirst, bufferMarkerLast); // already counted as dropped
        }

        buffered = 0;
        bufferDecisions = 0;
        bufferFirst = long.MaxValue;
        bufferLast = long.MinValue;
        bufferMarkerLost = 0;
        bufferMarkerFirst = long.MaxValue;
        bufferMarkerLast = long.MinValue;
    }

    private void WriteBuffer()
    {
        // Truncated from outside (logrotate's copytruncate): write at the new end, not at the old position, which
        // would leave a run of NUL bytes before the next line.
        long actual = file!.Length;
        if (actual < fileLength)
        {
            file.Position = actual;
            fileLength = actual;
        }

        file.Write(buffer, 0, buffered);
        fileLength += buffered;
    }

    // After a failed write the file may end in part of a line: truncate it back to the last complete one.
    private void CutBack()
    {
        var failed = file;
        if (failed is not null)
        {
            try
            {
                failed.SetLength(fileLength);
            }
            catch (IOException)
            {
                // Left for the tail check at the next open.
            }
            catch (UnauthorizedAccessException)
            {
                // As above.
            }
        }

        CloseFile();
    }

    private void Open()
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        var stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read | FileShare.Delete, bufferSize: 0);
        try
        {
            long length = RepairTail(stream);
            stream.Position = length;
            if (length > 0 && length + buffered > maxFileBytes)
            {
                stream.Dispose();
                Rotate();
                stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read | FileShare.Delete, bufferSize: 0);
                length = 0;
            }

            file = stream;
            fileLength = length;
            fileIdentity = Identity(stream);
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    private void TryOpen()
    {
        try
        {
            Open();
        }
#pragma warning disable CA1031 // Reason: a file that cannot be opened now is reported by the write that follows.
        catch (Exception)
#pragma warning restore CA1031
        {
            CloseFile();
        }
    }

    // A file that does not end with a newline (a crash in the middle of a write, or a cut-back that failed) is
    // truncated after its last complete line, so the next line never continues a torn one.
    private static long RepairTail(FileStream stream)
    {
        long length = stream.Length;
        if (length == 0)
        {
            return 0;
        }

        Span<byte> last = stackalloc byte[1];
        if (RandomAccess.Read(stream.SafeFileHandle, last, length - 1) == 1 && last[0] == (byte)'\n')
        {
            return length;
        }

        byte[] chunk = new byte[8192];
        long end = length;
        while (end > 0)
        {
            int size = (int)Math.Min(chunk.Length, end);
            int read = RandomAccess.Read(stream.SafeFileHandle, chunk.AsSpan(0, size), end - size);
            int newline = chunk.AsSpan(0, read).LastIndexOf((byte)'\n');
            if (newline >= 0)
            {
                long keep = end - size + newline + 1;
                stream.SetLength(keep);
                return keep;
            }

            end -= size;
        }

        stream.SetLength(0);
        return 0;
    }

    // On Linux /proc/self/fd/N names the open file: its path, the path it was renamed to, or "… (deleted)".
    private static string? Identity(FileStream stream)
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        try
        {
            int fd = (int)stream.SafeFileHandle.DangerousGetHandle();
            return new FileInfo(string.Create(CultureInfo.InvariantCulture, $"/proc/self/fd/{fd}")).LinkTarget;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    private FileState CheckIdentity()
    {
        if (fileIdentity is null)
        {
            return File.Exists(path) ? FileState.Same : FileState.Deleted;
        }

        string? now = Identity(file!);
        return now is null || string.Equals(now, fileIdentity, StringComparison.Ordinal) ? FileState.Same
            : now.EndsWith(" (deleted)", StringComparison.Ordinal) ? FileState.Deleted
            : FileState.Moved;
    }

    private void ReleaseBlockedProducers()
    {
        int blocked = Volatile.Read(ref blockedProducers);
        if (blocked > 0 && space.CurrentCount == 0)
        {
            space.Release(blocked);
        }
    }

    // An upper bound of the record's bytes: each UTF-16 unit becomes at most 6 bytes (a \uXXXX escape).
    private int Bound(ref Slot slot, long index)
    {
        long chars = 0;
        long fixedBytes = 0;
        int strings = 0;
        var subject = slot.Subject;
        if (subject is not null)
        {
            chars += subject.Id.Length;
            BindingChars(subject.Roles, ref chars, ref fixedBytes, ref strings);
            for (var link = subject.OnBehalfOf; link is not null; link = link.OnBehalfOf)
            {
                chars += 2 * link.Id.Length; // in on_behalf_of and in chain
                fixedBytes += LinkBytes;
                strings += 2;
                BindingChars(link.Roles, ref chars, ref fixedBytes, ref strings);
            }
        }

        chars += (slot.Action?.Length ?? 0) + (slot.ResourceName?.Length ?? 0) + (slot.Scope?.Length ?? 0) + (slot.Sensitivity?.Length ?? 0) + (slot.Owner?.Length ?? 0);
        foreach (string? tag in tagStore.AsSpan((int)(index * maxTags), slot.TagCount))
        {
            chars += tag?.Length ?? 0;
            strings++;
        }

        var decision = slot.Decision;
        chars += (decision.Role?.Length ?? 0) + (decision.Rule?.Length ?? 0) + (slot.Version?.ContentHash.Length ?? 0)
            + (decision.Condition?.Length ?? 0) + (decision.BreakGlassRole?.Length ?? 0);
        if (slot.Activation is { } activation)
        {
            chars += (activation.Justification?.Length ?? 0) + (activation.Subject?.Length ?? 0);
            strings += 2;
        }

        chars += decision.ApprovalRule?.Length ?? 0;
        if (slot.Approvals is { } context)
        {
            foreach (var approval in context.Approvals)
            {
                chars += approval.Approver?.Length ?? 0;
                strings++;
            }
        }

        if (slot.Retrieval is { } retrieval)
        {
            chars += (retrieval.Store?.Length ?? 0) + retrieval.FilterText.Length; // the counts and flags fit in the fixed part
        }

        if (slot.Shadow != ShadowOutcome.None)
        {
            var shadow = slot.ShadowDecision;
            chars += (shadow.Role?.Length ?? 0) + (shadow.Rule?.Length ?? 0) + (slot.ShadowVersion?.ContentHash.Length ?? 0);
            fixedBytes += ShadowBytes;
        }

        long bound = 640 + fixedBytes + (chars * 6) + (strings * 4L);
        return bound > int.MaxValue / 2 ? throw new InvalidOperationException("The audit record is too large.") : (int)bound;

        static void BindingChars(IReadOnlyList<RoleBinding>? roles, ref long chars, ref long fixedBytes, ref int strings)
        {
            if (roles is null)
            {
                return;
            }

            foreach (var binding in roles)
            {
                chars += binding.Role.Length + (binding.Scope?.Length ?? 0);
                fixedBytes += BindingBytes;
                strings += 2;
            }
        }
    }

    private void Format(ref Slot slot, long index, long count, long first, long last)
    {
        Raw("{\"time\":\""u8);
        WriteTime(first);
        if (slot.Retrieval is { } retrieval)
        {
            FormatRetrieval(ref slot, retrieval);
            return;
        }

        Raw("\",\"schema\":"u8);
        WriteNumber(RecordSchema);
        Raw(","u8);
        WriteVersion(slot.Version ?? PolicyVersion.None);
        WriteSubject(slot.Subject);
        Raw(",\"action\":"u8);
        WriteString(slot.Action ?? string.Empty);
        Raw(",\"resource\":"u8);
        WriteString(slot.ResourceName ?? string.Empty);
        if (slot.Scope is { } scope)
        {
            Raw(",\"scope\":"u8);
            WriteString(scope);
        }

        if (slot.Sensitivity is { } sensitivity)
        {
            Raw(",\"sensitivity\":"u8);
            WriteString(sensitivity);
        }

        if (slot.TagTotal > 0)
        {
            Raw(",\"tags\":["u8);
            var tags = tagStore.AsSpan((int)(index * maxTags), slot.TagCount);
            for (int i = 0; i < tags.Length; i++)
            {
                if (i > 0)
                {
                    Raw(","u8);
                }

                WriteString(tags[i] ?? string.Empty);
            }

            Raw("]"u8);
            if (slot.TagTotal > slot.TagCount)
            {
                Raw(",\"tags_omitted\":"u8);
                WriteNumber(slot.TagTotal - slot.TagCount);
            }
        }

        if (slot.Owner is { } owner)
        {
            Raw(",\"owner\":"u8);
            WriteString(owner);
        }

        WriteDecision(slot.Decision, ",\"allowed\":"u8, ",\"reason\":"u8, ",\"role\":"u8, ",\"rule\":"u8);
        if (slot.Shadow == ShadowOutcome.Disagreed)
        {
            Raw(",\"shadow\":\"disagreed\",\"shadow_policy_version\":"u8);
            WriteString(slot.ShadowVersion?.ContentHash ?? string.Empty);
            WriteDecision(slot.ShadowDecision, ",\"shadow_allowed\":"u8, ",\"shadow_reason\":"u8, ",\"shadow_role\":"u8, ",\"shadow_rule\":"u8);
        }
        else if (slot.Shadow == ShadowOutcome.Failed)
        {
            Raw(",\"shadow\":\"failed\",\"shadow_policy_version\":"u8);
            WriteString(slot.ShadowVersion?.ContentHash ?? string.Empty);
        }

        if (slot.Decision.Condition is { } condition)
        {
            Raw(",\"condition\":"u8);
            WriteString(condition);
        }

        if (slot.Decision.ApprovalRule is { } approvalRule)
        {
            Raw(",\"approval_rule\":"u8);
            WriteString(approvalRule);
            Raw(",\"approved_by\":["u8);
            if (slot.Approvals is { } context)
            {
                int mask = slot.ApprovalMask;
                var approvals = context.Approvals;
                bool any = false;
                for (int i = 0; i < approvals.Count && i < 32; i++)
                {
                    if ((mask & (1 << i)) != 0)
                    {
                        Raw(any ? ","u8 : ""u8);
                        WriteString(approvals[i].Approver ?? string.Empty);
                        any = true;
                    }
                }
            }

            Raw("]"u8);
        }

        if (slot.Decision.BreakGlassRole is { } breakGlass)
        {
            Raw(",\"break_glass_role\":"u8);
            WriteString(breakGlass);
            if (slot.Activation is { } activation)
            {
                Raw(",\"justification\":"u8);
                WriteString(activation.Justification ?? string.Empty);
                Raw(",\"activated_by\":"u8);
                WriteString(activation.Subject ?? string.Empty);
                Raw(",\"activated_at\":\""u8);
                WriteTime(activation.Start.UtcTicks);
                Raw("\""u8);
            }
        }

        if (slot.ContextOmitted)
        {
            Raw(",\"context_omitted\":true"u8);
        }

        if (count > 1)
        {
            Raw(",\"count\":"u8);
            WriteNumber(count);
            Raw(",\"last_time\":\""u8);
            WriteTime(last);
            Raw("\""u8);
        }

        Raw("}\n"u8);
    }

    // An "event":"retrieval" line (docs/audit-log.md, "Retrieval records"), after "time": the version, the subject as
    // a decision record shows it, then the query's fields; the filter's text last, since it is the longest.
    private void FormatRetrieval(ref Slot slot, RetrievalRecord retrieval)
    {
        Raw("\",\"event\":\"retrieval\","u8);
        WriteVersion(slot.Version ?? PolicyVersion.None);
        WriteSubject(slot.Subject);
        Raw(",\"action\":"u8);
        WriteString(slot.Action ?? string.Empty);
        if (retrieval.Store is { } store)
        {
            Raw(",\"store\":"u8);
            WriteString(store);
        }

        Raw(",\"candidates\":"u8);
        WriteNumber(retrieval.Candidates);
        Raw(",\"removed\":"u8);
        WriteNumber(retrieval.Removed);
        Raw(",\"returned\":"u8);
        WriteNumber(retrieval.Returned);
        WriteApproximations(retrieval.Approximations);
        if (retrieval.Failed)
        {
            Raw(",\"failed\":true"u8);
        }

        Raw(",\"filter\":"u8);
        WriteString(retrieval.FilterText);
        Raw("}\n"u8);
    }

    // "approximations":["name_patterns",…], in flag order; omitted when the store filter was exact.
    private void WriteApproximations(StoreFilterApproximations approximations)
    {
        if (approximations == StoreFilterApproximations.None)
        {
            return;
        }

        Raw(",\"approximations\":["u8);
        bool first = true;
        Flag(StoreFilterApproximations.NamePatterns, "\"name_patterns\""u8);
        Flag(StoreFilterApproximations.ScopePaths, "\"scope_paths\""u8);
        Flag(StoreFilterApproximations.UnknownTags, "\"unknown_tags\""u8);
        Flag(StoreFilterApproximations.Incomplete, "\"incomplete\""u8);
        if ((approximations & ~(StoreFilterApproximations.NamePatterns | StoreFilterApproximations.ScopePaths | StoreFilterApproximations.UnknownTags | StoreFilterApproximations.Incomplete)) != 0)
        {
            Flag(approximations, "\"other\""u8); // a flag this version does not name
        }

        Raw("]"u8);

        void Flag(StoreFilterApproximations flag, ReadOnlySpan<byte> name)
        {
            if ((approximations & flag) == 0)
            {
                return;
            }

            if (!first)
            {
                Raw(","u8);
            }

            Raw(name);
            first = false;
        }
    }

    // "subject":"…" and, when the subject has them, "kind", "roles" (bindings with a scope or an expiry as objects),
    // "on_behalf_of" and "chain" (the same for decisions and queries).
    private void WriteSubject(Subject? subject)
    {
        Raw("\"subject\":"u8);
        WriteString(subject?.Id ?? string.Empty);
        if (subject?.Kind is { } kind)
        {
            Raw(",\"kind\":"u8);
            WriteString(SubjectKinds.ToName(kind));
        }

        if (subject?.Roles is { } roles)
        {
            Raw(",\"roles\":"u8);
            WriteBindings(roles);
        }

        if (subject?.OnBehalfOf is { } principal)
        {
            Raw(",\"on_behalf_of\":["u8);
            for (var link = principal; link is not null; link = link.OnBehalfOf)
            {
                if (!ReferenceEquals(link, principal))
                {
                    Raw(","u8);
                }

                WriteString(link.Id);
            }

            // The same links whole, as a replay needs them: each link's kind and bindings when the request gave them.
            Raw("],\"chain\":["u8);
            for (var link = principal; link is not null; link = link.OnBehalfOf)
            {
                Raw(ReferenceEquals(link, principal) ? "{\"subject\":"u8 : ",{\"subject\":"u8);
                WriteString(link.Id);
                if (link.Kind is { } linkKind)
                {
                    Raw(",\"kind\":"u8);
                    WriteString(SubjectKinds.ToName(linkKind));
                }

                if (link.Roles is { } linkRoles)
                {
                    Raw(",\"roles\":"u8);
                    WriteBindings(linkRoles);
                }

                Raw("}"u8);
            }

            Raw("]"u8);
        }
    }

    // "allowed":…,"reason":"…"[,"role":"…"][,"rule":"…"] for the live decision, or the shadow_ fields for the candidate's.
    private void WriteDecision(Decision decision, ReadOnlySpan<byte> allowed, ReadOnlySpan<byte> reason, ReadOnlySpan<byte> role, ReadOnlySpan<byte> rule)
    {
        Raw(allowed);
        Raw(decision.Allowed ? "true"u8 : "false"u8);
        Raw(reason);
        WriteString(decision.ReasonName);
        if (decision.Role is { } roleName)
        {
            Raw(role);
            WriteString(roleName);
        }

        if (decision.Rule is { } ruleText)
        {
            Raw(rule);
            WriteString(ruleText);
        }
    }

    // A list of bindings: a plain one as its role name, one with a scope or an expiry as {"role":…,"scope":…,"expires":…}.
    private void WriteBindings(IReadOnlyList<RoleBinding> roles)
    {
        Raw("["u8);
        for (int i = 0; i < roles.Count; i++)
        {
            if (i > 0)
            {
                Raw(","u8);
            }

            var binding = roles[i];
            if (binding.Scope is null && binding.Expires is null)
            {
                WriteString(binding.Role);
                continue;
            }

            Raw("{\"role\":"u8);
            WriteString(binding.Role);
            if (binding.Scope is { } scope)
            {
                Raw(",\"scope\":"u8);
                WriteString(scope);
            }

            if (binding.Expires is { } expires)
            {
                Raw(",\"expires\":\""u8);
                WriteTime(expires.UtcTicks);
                Raw("\""u8);
            }

            Raw("}"u8);
        }

        Raw("]"u8);
    }

    // "policy_version":"…","policy_loaded_at":"…", formatted once per version.
    private void WriteVersion(PolicyVersion version)
    {
        if (!ReferenceEquals(version, cachedVersion))
        {
            int start = buffered;
            Raw("\"policy_version\":"u8);
            WriteString(version.ContentHash);
            Raw(",\"policy_loaded_at\":\""u8);
            WriteTime(version.LoadedAt.UtcTicks);
            Raw("\","u8);
            cachedVersionBytes = buffer.AsSpan(start, buffered - start).ToArray();
            cachedVersion = version;
            return;
        }

        Raw(cachedVersionBytes);
    }

    private void Raw(ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(buffer.AsSpan(buffered));
        buffered += bytes.Length;
    }

    private void WriteNumber(long value)
    {
        value.TryFormat(buffer.AsSpan(buffered), out int length, default, CultureInfo.InvariantCulture);
        buffered += length;
    }

    // RFC 3339 in UTC, as Rfc3339.Format writes it: yyyy-MM-ddTHH:mm:ss[.fffffff]Z (fraction only when present).
    private void WriteTime(long utcTicks)
    {
        new DateTime(utcTicks, DateTimeKind.Utc).Deconstruct(out int year, out int month, out int day);
        long inDay = utcTicks % TimeSpan.TicksPerDay;
        int seconds = (int)(inDay / TimeSpan.TicksPerSecond);
        int fraction = (int)(inDay % TimeSpan.TicksPerSecond);
        var span = buffer.AsSpan(buffered);
        Digits(span, 0, year, 4);
        span[4] = (byte)'-';
        Digits(span, 5, month, 2);
        span[7] = (byte)'-';
        Digits(span, 8, day, 2);
        span[10] = (byte)'T';
        Digits(span, 11, seconds / 3600, 2);
        span[13] = (byte)':';
        Digits(span, 14, seconds / 60 % 60, 2);
        span[16] = (byte)':';
        Digits(span, 17, seconds % 60, 2);
        int length = 19;
        if (fraction != 0)
        {
            span[19] = (byte)'.';
            Digits(span, 20, fraction, 7);
            length = 27;
        }

        span[length] = (byte)'Z';
        buffered += length + 1;
    }

    private static void Digits(Span<byte> span, int at, int value, int width)
    {
        for (int i = at + width - 1; i >= at; i--)
        {
            span[i] = (byte)('0' + (value % 10));
            value /= 10;
        }
    }

    // A JSON string: quotes, backslashes and control characters escaped; other characters as UTF-8, except lone
    // surrogates, which UTF-8 cannot carry: they are written as \uXXXX escapes so that distinct ids stay distinct.
    private void WriteString(string value)
    {
        buffer[buffered++] = (byte)'"';
        ReadOnlySpan<char> rest = value;
        while (true)
        {
            int special = rest.IndexOfAny(Escaped);
            WriteUtf8(special < 0 ? rest : rest[..special]);
            if (special < 0)
            {
                break;
            }

            WriteEscape(rest[special]);
            rest = rest[(special + 1)..];
        }

        buffer[buffered++] = (byte)'"';
    }

    private void WriteUtf8(ReadOnlySpan<char> text)
    {
        while (!text.IsEmpty)
        {
            var status = Utf8.FromUtf16(text, buffer.AsSpan(buffered), out int read, out int writtenBytes, replaceInvalidSequences: false, isFinalBlock: true);
            buffered += writtenBytes;
            if (status == OperationStatus.Done)
            {
                return;
            }

            if (status != OperationStatus.InvalidData)
            {
                throw new InvalidOperationException("The audit record outgrew its bound."); // cannot happen: Bound allows 6 bytes a unit
            }

            WriteUnicodeEscape(text[read]); // a lone surrogate
            text = text[(read + 1)..];
        }
    }

    private void WriteEscape(char c)
    {
        switch (c)
        {
            case '"': Raw("\\\""u8); break;
            case '\\': Raw("\\\\"u8); break;
            case '\n': Raw("\\n"u8); break;
            case '\r': Raw("\\r"u8); break;
            case '\t': Raw("\\t"u8); break;
            case '\b': Raw("\\b"u8); break;
            case '\f': Raw("\\f"u8); break;
            default: WriteUnicodeEscape(c); break;
        }
    }

    private void WriteUnicodeEscape(char c)
    {
        var span = buffer.AsSpan(buffered, 6);
        span[0] = (byte)'\\';
        span[1] = (byte)'u';
        for (int i = 5; i >= 2; i--)
        {
            int nibble = c & 0xF;
            span[i] = (byte)(nibble < 10 ? '0' + nibble : 'A' + nibble - 10);
            c = (char)(c >> 4);
        }

        buffered += 6;
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

        if (File.Exists(path))
        {
            File.Move(path, Rotated(1), overwrite: true);
        }
    }

    private string Rotated(int index) => string.Create(CultureInfo.InvariantCulture, $"{path}.{index}");

    private void CloseFile()
    {
        var closing = file;
        file = null;
        fileLength = 0;
        fileIdentity = null;
        try
        {
            closing?.Dispose();
        }
        catch (IOException)
        {
            // Unbuffered: nothing is lost by a close that fails.
        }
    }

    // Copies of what the record shows, taken at hand-off: references to immutable values (strings, the subject,
    // the version, the decision) and, in tagStore, the tag references. Count and the two times change while the
    // record waits, under Gate, until the writer seals it.
    private struct Slot
    {
        public long Sequence;
        public long Ticks;
        public long LastTicks;
        public long Count;
        public int Gate;
        public bool Sealed;
        public int TagCount;
        public int TagTotal;
        public Subject? Subject;
        public string? Action;
        public string? ResourceName;
        public string? Scope;
        public string? Sensitivity;
        public string? Owner;
        public Decision Decision;
        public PolicyVersion? Version;

        // A break-glass decision's activation (a copy of the request's: docs/policy-language.md, section 12).
        public BreakGlassActivation? Activation;

        // A decision naming an approval rule (section 13): the request's context, whose approvals the decision's mask picks.
        public RequestContext? Approvals;
        public int ApprovalMask;

        // Whether the request carried a context (pairs, activations or approvals) that the record does not hold.
        public bool ContextOmitted;
        public RetrievalRecord? Retrieval; // set for a retrieval query's record, null for a decision
        public ShadowOutcome Shadow;
        public Decision ShadowDecision;
        public PolicyVersion? ShadowVersion;
    }
}
