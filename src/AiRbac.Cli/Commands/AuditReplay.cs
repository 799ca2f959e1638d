using System.Globalization;
using System.Security.Cryptography;
using AiRbac.Review;
using AiRbac.Review.Internal;

namespace AiRbac.Cli.Commands;

/// <summary>
/// <c>airbac diff OLD NEW --audit FILE</c>: decides every request of a decision audit log again under both policies, each
/// as of the time it was logged, and reports the decisions whose reason changes, grouped by old → new reason, with
/// counts and the subjects affected (docs/cli.md). The log is streamed; memory and output are bounded whatever its size.
/// Lines that are not valid records are counted and skipped, records that do not hold everything a decision read are
/// counted and not replayed, and either makes the replay incomplete (exit status 2).
/// </summary>
internal static class AuditReplay
{
    private const int ExamplesPerChange = Tuning.Cli.ReplayExamplesPerChange;
    private const int SubjectsShown = Tuning.Cli.ReplaySubjectsShown;
    private const int SubjectsTracked = Tuning.Cli.ReplaySubjectsTracked;
    private const int ProblemsShown = Tuning.Cli.ReplayProblemsShown;
    private const int LinksShown = Tuning.Cli.ReplayLinksShown;

    /// <summary>Replays the log; prints the changes and the totals.</summary>
    /// <returns>The number of decisions whose reason changed, and whether some lines or records could not be replayed.</returns>
    public static (long Changed, bool Incomplete) Run(CliConsole console, PolicyCompilation before, PolicyCompilation after, FixedClock clock, string oldPath, string auditPath)
    {
        var tally = new Tally(OldHash(oldPath));
        var reader = RequestCorpus.Open(auditPath, console.In);
        try
        {
            var log = new AuditLogReader(reader, readRequests: true);
            while (true)
            {
                AuditRecord? record;
                try
                {
                    record = log.Next();
                }
                catch (AuditLogFormatException e)
                {
                    tally.Malformed(e.LineNumber, e.Reason);
                    continue;
                }

                if (record is null)
                {
                    break;
                }

                switch (record.Type)
                {
                    case AuditLineType.Loss:
                        tally.LostDecisions += record.Count;
                        break;
                    case AuditLineType.Torn:
                        tally.TornLines++;
                        break;
                    case AuditLineType.Retrieval:
                        tally.RetrievalQueries++; // a query, not a decision: nothing to decide again
                        break;
                    default:
                        Replay(tally, record, before.Policy!, after.Policy!, clock);
                        break;
                }
            }
        }
        finally
        {
            if (!ReferenceEquals(reader, console.In))
            {
                reader.Dispose();
            }
        }

        tally.Print(console.Out, auditPath == "-" ? "standard input" : auditPath);
        return (tally.ChangedDecisions, tally.MalformedLines > 0 || tally.NotReplayableRecords > 0);
    }

    private static void Replay(Tally tally, AuditRecord record, CompiledPolicy before, CompiledPolicy after, FixedClock clock)
    {
        tally.Records++;
        tally.Decisions += record.Count;
        if (record.Request(out string? notReplayable) is not { } request)
        {
            tally.NotReplayable(record, notReplayable!);
            return;
        }

        // As of the logged time: a binding that expired since is judged as it was then. A coalesced record stands for
        // identical decisions within a second or so; all are decided as of the first.
        clock.Now = record.Time;
        var a = before.Authorize(request.Subject, request.Action, request.Resource);
        var b = after.Authorize(request.Subject, request.Action, request.Resource);
        tally.ReplayedRecords++;
        tally.ReplayedDecisions += record.Count;
        // The logged decision is reproduced when the reason, and in version 2 the condition and approval rule it names, are.
        if (a.ReasonName != record.Reason || (a.Condition ?? "") != (record.Condition ?? "") || (a.ApprovalRule ?? "") != (record.ApprovalRule ?? ""))
        {
            tally.Mismatch(record, a);
        }

        if (a.Reason != b.Reason)
        {
            tally.Changed(record, request.Subject, a, b);
        }
    }

    // The content hash the DI package stamps as policy_version (SHA-256 of the file's bytes), to tell whether OLD is the
    // policy the log says decided a record.
    private static string OldHash(string path) => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));

    private static string Time(DateTimeOffset time) => Rfc3339.Format(time);

    /// <summary>What the replay found; every list it keeps is bounded.</summary>
    private sealed class Tally(string oldHash)
    {
        private readonly Dictionary<(DecisionReason Old, DecisionReason New), Change> changes = [];
        private readonly HashSet<string> affected = new(StringComparer.Ordinal);
        private readonly Dictionary<string, (long Records, long Decisions, long FirstLine)> notReplayable = new(StringComparer.Ordinal);
        private readonly List<string> malformed = [];
        private readonly List<string> mismatches = [];
        private long flipped;
        private long mismatchedRecords;
        private long mismatchedDecisions;
        private long mismatchedByOld;
        private bool affectedCapped;

        public long Records { get; set; }

        public long Decisions { get; set; }

        public long ReplayedRecords { get; set; }

        public long ReplayedDecisions { get; set; }

        public long LostDecisions { get; set; }

        public long TornLines { get; set; }

        public long RetrievalQueries { get; set; }

        public long MalformedLines { get; private set; }

        public long NotReplayableRecords { get; private set; }

        public long ChangedDecisions { get; private set; }

        public void Malformed(long line, string reason)
        {
            MalformedLines++;
            if (malformed.Count < ProblemsShown)
            {
                malformed.Add(string.Create(CultureInfo.InvariantCulture, $"line {line}: {DecisionDetails.Quote(reason)}"));
            }
        }

        public void NotReplayable(AuditRecord record, string why)
        {
            NotReplayableRecords++;
            notReplayable[why] = notReplayable.TryGetValue(why, out var seen)
                ? (seen.Records + 1, seen.Decisions + record.Count, seen.FirstLine)
                : (1, record.Count, record.Line);
        }

        public void Mismatch(AuditRecord record, Decision replayed)
        {
            mismatchedRecords++;
            mismatchedDecisions += record.Count;
            bool byOld = string.Equals(record.PolicyVersion, oldHash, StringComparison.Ordinal);
            mismatchedByOld += byOld ? 1 : 0;
            if (mismatches.Count < ProblemsShown)
            {
                mismatches.Add(string.Create(CultureInfo.InvariantCulture,
                    $"line {record.Line}: logged {Logged(record)}{(byOld ? " by OLD" : "")}, OLD gives {Logged(replayed.ReasonName, replayed.Condition, replayed.ApprovalRule)}"));
            }
        }

        private static string Logged(AuditRecord record) => Logged(record.Reason, record.Condition, record.ApprovalRule);

        private static string Logged(string reason, string? condition, string? approvalRule)
            => reason + (condition is null ? "" : $" (condition '{DecisionDetails.Quote(condition)}')") + (approvalRule is null ? "" : $" (approval rule '{DecisionDetails.Quote(approvalRule)}')");

        public void Changed(AuditRecord record, Subject subject, Decision a, Decision b)
        {
            ChangedDecisions += record.Count;
            flipped += a.Allowed != b.Allowed ? record.Count : 0;
            if (!changes.TryGetValue((a.Reason, b.Reason), out var change))
            {
                changes[(a.Reason, b.Reason)] = change = new Change();
            }

            string who = Who(subject);
            change.Records++;
            change.Decisions += record.Count;
            if (change.Subjects.TryGetValue(who, out long count) || change.Subjects.Count < SubjectsTracked)
            {
                change.Subjects[who] = count + record.Count;
            }
            else
            {
                change.UntrackedDecisions += record.Count;
            }

            if (affected.Count < SubjectsTracked)
            {
                affected.Add(who);
            }
            else if (!affected.Contains(who))
            {
                affectedCapped = true;
            }

            if (change.Examples.Count < ExamplesPerChange)
            {
                string times = record.Count > 1 ? string.Create(CultureInfo.InvariantCulture, $" (x{record.Count})") : "";
                change.Examples.Add(string.Create(CultureInfo.InvariantCulture,
                    $"line {record.Line}, {Time(record.Time)}: {who} {DecisionDetails.Quote(record.Action)} {DecisionDetails.Quote(record.Resource)}: {DiffCommand.Describe(a)} -> {DiffCommand.Describe(b)}{times}"));
            }
        }

        public void Print(TextWriter output, string source)
        {
            output.WriteLine($"decisions replayed from the audit log {source} (each as of its logged time):");
            if (changes.Count == 0)
            {
                output.WriteLine("  no decision changes");
            }

            foreach (var ((old, now), change) in changes.OrderByDescending(c => c.Value.Decisions).ThenBy(c => c.Key.Old).ThenBy(c => c.Key.New))
            {
                string subjects = change.UntrackedDecisions > 0 ? $"at least {change.Subjects.Count} subjects" : Plural(change.Subjects.Count, "subject");
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  {DecisionReasons.ToName(old)} -> {DecisionReasons.ToName(now)}: {Plural(change.Decisions, "decision")} ({Plural(change.Records, "record")}), {subjects}"));
                var shown = change.Subjects.OrderByDescending(s => s.Value).ThenBy(s => s.Key, StringComparer.Ordinal).Take(SubjectsShown)
                    .Select(s => string.Create(CultureInfo.InvariantCulture, $"{s.Key} ({s.Value})")).ToList();
                long more = change.Subjects.Count - shown.Count;
                string rest = change.UntrackedDecisions > 0 ? ", and more" : more > 0 ? string.Create(CultureInfo.InvariantCulture, $", and {more} more") : "";
                output.WriteLine("    subjects: " + string.Join(", ", shown) + rest);
                foreach (string example in change.Examples)
                {
                    output.WriteLine("    " + example);
                }
            }

            string subjectsAffected = affectedCapped ? $"at least {affected.Count} subjects" : Plural(affected.Count, "subject");
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"audit: {Plural(ReplayedDecisions, "decision")} in {Plural(ReplayedRecords, "record")} replayed: {ChangedDecisions} changed reason, {flipped} flipped between allowed and denied; {subjectsAffected} affected"));
            if (LostDecisions > 0 || TornLines > 0)
            {
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  not in the log: {LostDecisions} lost (records_lost markers), {TornLines} torn last line"));
            }

            if (RetrievalQueries > 0)
            {
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  not decisions: {Plural(RetrievalQueries, "retrieval query record")} (counted, not replayed)"));
            }

            if (NotReplayableRecords > 0)
            {
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  not replayable: {Plural(NotReplayableRecords, "record")} (of {Records})"));
                foreach (var (why, seen) in notReplayable.OrderByDescending(n => n.Value.Records).ThenBy(n => n.Key, StringComparer.Ordinal))
                {
                    output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"    {Plural(seen.Records, "record")} ({Plural(seen.Decisions, "decision")}), first line {seen.FirstLine}: {why}"));
                }
            }

            if (MalformedLines > 0)
            {
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  skipped: {Plural(MalformedLines, "line")} not valid audit records"));
                foreach (string line in malformed)
                {
                    output.WriteLine("    " + line);
                }
            }

            if (mismatchedRecords > 0)
            {
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  warning: OLD does not give the logged reason for {Plural(mismatchedRecords, "record")} ({Plural(mismatchedDecisions, "decision")}); {mismatchedByOld} of them logged as decided by OLD's exact content"));
                foreach (string line in mismatches)
                {
                    output.WriteLine("    " + line);
                }
            }
        }

        // The subject and whom it acted for: ids clipped and escaped, at most a few links named, so a key stays short.
        private static string Who(Subject subject)
        {
            string who = DecisionDetails.Quote(subject.Id);
            int links = 0;
            for (var link = subject.OnBehalfOf; link is not null; link = link.OnBehalfOf, links++)
            {
                if (links == LinksShown)
                {
                    int rest = 0;
                    for (; link is not null; link = link.OnBehalfOf)
                    {
                        rest++;
                    }

                    return who + string.Create(CultureInfo.InvariantCulture, $" for … ({rest} more links)");
                }

                who += " for " + DecisionDetails.Quote(link.Id);
            }

            return who;
        }

        private static string Plural(long count, string noun)
            => string.Create(CultureInfo.InvariantCulture, $"{count} {noun}{(count == 1 ? "" : "s")}");
    }

    private sealed class Change
    {
        public long Records { get; set; }

        public long Decisions { get; set; }

        /// <summary>Decisions per subject, for at most <see cref="SubjectsTracked"/> subjects.</summary>
        public Dictionary<string, long> Subjects { get; } = new(StringComparer.Ordinal);

        /// <summary>Decisions of subjects past the tracked ones.</summary>
        public long UntrackedDecisions { get; set; }

        public List<string> Examples { get; } = [];
    }
}
