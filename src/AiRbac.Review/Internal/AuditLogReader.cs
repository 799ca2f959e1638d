using System.Text.Json;
using AiRbac.Requests;

namespace AiRbac.Review.Internal;

/// <summary>What an audit log line is.</summary>
internal enum AuditLineType
{
    /// <summary>A decision record (possibly coalesced: <see cref="AuditRecord.Count"/> identical decisions).</summary>
    Decision,

    /// <summary>A loss marker (<c>"event":"records_lost"</c>): <see cref="AuditRecord.Count"/> decisions are missing.</summary>
    Loss,

    /// <summary>A final line without a newline that is not valid JSON: a write cut off, one decision of unknown time lost.</summary>
    Torn,

    /// <summary>A filtered retrieval query (<c>"event":"retrieval"</c>): checked, and not a decision (it names no deciding grant).</summary>
    Retrieval,
}

/// <summary>
/// The fields of one audit line: those the review uses, and, when the reader reads requests (a replay), everything the
/// record says of the request (docs/audit-log.md, "Record schema").
/// </summary>
internal sealed class AuditRecord
{
    /// <summary>The record schema this tool reads whole: the version from which records carry every decision input.</summary>
    public const int ReplayableSchema = 2;

    public AuditLineType Type { get; set; }

    /// <summary>The line's number in the log.</summary>
    public long Line { get; set; }

    /// <summary>A decision's time (the first, when coalesced); a loss marker's <c>first_time</c>.</summary>
    public DateTimeOffset Time { get; set; }

    /// <summary>The last decision's time: <c>last_time</c> of a coalesced record or a loss marker, else <see cref="Time"/>.</summary>
    public DateTimeOffset LastTime { get; set; }

    /// <summary>The decisions the line stands for (1, or a coalesced record's <c>count</c>), or the records a marker says were lost.</summary>
    public long Count { get; set; } = 1;

    public string Subject { get; set; } = string.Empty;

    public string? Kind { get; set; }

    public bool Allowed { get; set; }

    public string? Role { get; set; }

    public string? Rule { get; set; }

    public List<string> Roles { get; } = [];

    // Read only for a replay (AuditLogReader with readRequests):

    /// <summary>The record's <c>schema</c>, or 0 when it has none (written by an older sink).</summary>
    public int Schema { get; set; }

    public string Action { get; set; } = string.Empty;

    public string Resource { get; set; } = string.Empty;

    public string Reason { get; set; } = string.Empty;

    public string? PolicyVersion { get; set; }

    public string? Scope { get; set; }

    public string? Sensitivity { get; set; }

    public string? Owner { get; set; }

    public List<string> Tags { get; } = [];

    /// <summary><c>tags_omitted</c>: tags the request carried that the record does not show.</summary>
    public long TagsOmitted { get; set; }

    /// <summary><c>context_omitted</c>: the request carried a context (version 2) that the record does not hold.</summary>
    public bool ContextOmitted { get; set; }

    /// <summary>The subject's bindings as the request gave them, or <see langword="null"/> when the record has no <c>roles</c> (the policy's bindings applied).</summary>
    public List<RoleBinding>? Bindings { get; set; }

    /// <summary>The on-behalf-of chain, link by link (<c>chain</c>), or <see langword="null"/> when the record has none.</summary>
    public List<(string Id, SubjectKind? Kind, List<RoleBinding>? Bindings)>? Chain { get; set; }

    /// <summary>The ids of <c>on_behalf_of</c>.</summary>
    public List<string> OnBehalfOf { get; } = [];

    /// <summary>Whether a string of the request holds a lone surrogate, kept in escaped form: it is not the text that was decided on.</summary>
    public bool Escaped { get; set; }

    /// <summary>
    /// The request the record describes, to decide it again: <see langword="null"/>, with the reason, when the record
    /// does not hold everything the decision read (docs/audit-log.md, "Replaying the log").
    /// </summary>
    public (Subject Subject, string Action, ResourceRequest Resource)? Request(out string? notReplayable)
    {
        notReplayable = Schema == 0 ? "written before the schema field (an older sink): binding scopes and expiry, the chain's kinds and roles and the owner are not known"
            : Schema != ReplayableSchema ? $"schema {Schema} is not {ReplayableSchema}: it may carry decision inputs this tool does not read"
            : TagsOmitted > 0 ? $"{TagsOmitted} tag(s) of the request are not in the record (AuditLogOptions.MaxTags)"
            : ContextOmitted ? "the request carried a context (conditions, break-glass activations or approvals: policy language version 2) that the record does not hold"
            : BreakGlassRole is not null || ApprovedBy.Count > 0 ? "a break-glass decision or counted approvals without 'context_omitted': only a request with a context gives them, and the record does not hold it"
            : Escaped ? "a string of the request holds a lone surrogate, which the log keeps escaped"
            : null;
        if (notReplayable is not null)
        {
            return null;
        }

        Subject? principal = null;
        if (Chain is { } chain)
        {
            for (int i = chain.Count - 1; i >= 0; i--)
            {
                principal = new Subject(chain[i].Id, chain[i].Kind, chain[i].Bindings, principal);
            }
        }

        SubjectKind? kind = Kind is null ? null : SubjectKinds.TryParse(Kind, out var parsed) ? parsed : null;
        var subject = new Subject(Subject, kind, Bindings, principal);
        return (subject, Action, new ResourceRequest(Resource) { Scope = Scope, Sensitivity = Sensitivity, Owner = Owner, Tags = Tags.ToArray() });
    }

    /// <summary>For a break-glass decision (docs/policy-language.md, section 12): the role, the justification, who activated it and when.</summary>
    public string? BreakGlassRole { get; set; }

    public string? Justification { get; set; }

    public string? ActivatedBy { get; set; }

    public DateTimeOffset? ActivatedAt { get; set; }

    /// <summary>For <c>condition_failed</c> (docs/policy-language.md, section 11): the condition that failed, as logged.</summary>
    public string? Condition { get; set; }

    /// <summary>The approval rule the decision names (section 13), as logged.</summary>
    public string? ApprovalRule { get; set; }

    /// <summary>The approvers whose approvals counted (<c>approved_by</c>); empty when the record has none.</summary>
    public List<string> ApprovedBy { get; } = [];
}

/// <summary>
/// Streams an audit log (JSON Lines, one decision record per line): one line at a time, each at most
/// <see cref="MaxLineLength"/> characters, so memory stays bounded whatever the size of the log. A line that is not a
/// valid record throws <see cref="AuditLogFormatException"/>; the reader can go on with the next line after it (the
/// review stops, a replay counts it). With <paramref name="readRequests"/>, the request of each record is read too, for
/// <see cref="AuditRecord.Request"/>, and checked strictly (a repeated field, an unknown field in a binding or chain link
/// make the line bad).
/// </summary>
internal sealed class AuditLogReader(TextReader reader, bool readRequests = false)
{
    /// <summary>The longest line accepted: 1 MiB of characters.</summary>
    public const int MaxLineLength = Tuning.Requests.MaxLineLength;

    private static readonly string[] OptionalStrings = ["policy_version", "policy_loaded_at", "scope", "sensitivity"];

    private readonly EndTrackingReader source = new(reader);
    private readonly AuditRecord record = new();
    private BoundedLineReader? lines;

    private BoundedLineReader Lines => lines ??= new BoundedLineReader(source, MaxLineLength);

    /// <summary>The number of the line last read.</summary>
    public long LineNumber => Lines.LineNumber;

    /// <summary>Reads the next record, loss marker or torn final line; blank lines are skipped. The returned object is reused by the next call.</summary>
    /// <exception cref="AuditLogFormatException">The line is too long or not a valid record or marker.</exception>
    public AuditRecord? Next()
    {
        while (ReadLine(out string text))
        {
            if (string.IsNullOrWhiteSpace(text))
            {
                continue;
            }

            record.Line = LineNumber;
            try
            {
                if (!Parse(text, out string? syntaxError))
                {
                    // Invalid JSON on the last line, with no newline after it, is a write cut off by a crash: one record of
                    // unknown time is lost. Followed by a newline (or by anything), it is a corrupt log and stops the review.
                    long line = LineNumber;
                    if (IsUnterminatedLastLine())
                    {
                        record.Type = AuditLineType.Torn;
                        record.Count = 1;
                        return record;
                    }

                    throw new AuditLogFormatException(line, $"not valid JSON ({syntaxError})");
                }
            }
            catch (InvalidOperationException)
            {
                // A lone surrogate escape ("\ud800") in a field name: no field of the schema has one, so the line is
                // refused (values with one are kept in escaped form, see Text).
                throw Bad("a field name holds an escape that is not valid UTF-16 (a lone surrogate)");
            }

            return record;
        }

        return null;
    }

    /// <summary>Whether the line just read was the last and the log does not end with a newline (consumes nothing).</summary>
    private bool IsUnterminatedLastLine()
        => Lines.AtEnd() && !source.EndsWithNewline;

    private bool ReadLine(out string text) => Lines.Read(out text) switch
    {
        LineStatus.Line => true,
        LineStatus.TooLong => throw Bad($"the line is longer than {MaxLineLength} characters"),
        _ => false,
    };

    private bool Parse(string text, out string? syntaxError)
    {
        JsonDocument document;
        syntaxError = null;
        try
        {
            // A replay reads what it decides on: a field given twice could be read either way, so it makes the line bad
            // (policy-language.md, choice 4).
            document = JsonDocument.Parse(text, new JsonDocumentOptions { MaxDepth = 16, AllowDuplicateProperties = !readRequests });
        }
        catch (JsonException e)
        {
            syntaxError = e.Message;
            return false;
        }

        using (document)
        {
            record.Escaped = false;
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw Bad("not a JSON object");
            }

            var instant = RequiredTime(root, "time");
            if (root.TryGetProperty("event", out var kind))
            {
                ParseEvent(root, kind, instant);
                return true;
            }

            record.Type = AuditLineType.Decision;
            record.Time = instant;
            record.LastTime = instant;
            record.Count = 1;
            bool coalesced = root.TryGetProperty("count", out var count);
            if (coalesced != root.TryGetProperty("last_time", out _))
            {
                throw Bad("'count' and 'last_time' go together (a coalesced record has both)");
            }

            if (coalesced)
            {
                if (count.ValueKind != JsonValueKind.Number || !count.TryGetInt64(out long n) || n < 2)
                {
                    throw Bad("'count' must be an integer of at least 2");
                }

                record.Count = n;
                record.LastTime = RequiredTime(root, "last_time");
                if (record.LastTime < instant)
                {
                    throw Bad("'last_time' is before 'time'");
                }
            }

            record.Subject = RequiredString(root, "subject");
            record.Action = RequiredString(root, "action");
            record.Resource = RequiredString(root, "resource");
            if (!root.TryGetProperty("allowed", out var allowed) || allowed.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
            {
                throw Bad("'allowed' must be present and be true or false");
            }

            record.Allowed = allowed.GetBoolean();
            record.Reason = RequiredString(root, "reason");
            record.Kind = OptionalString(root, "kind");
            if (record.Kind is not null && !SubjectKinds.TryParse(record.Kind, out _))
            {
                throw Bad($"unknown 'kind': {Shorten(record.Kind)} (expected user, service or agent)");
            }

            record.Role = OptionalString(root, "role");
            record.Rule = OptionalString(root, "rule");
            foreach (string field in OptionalStrings)
            {
                _ = OptionalString(root, field);
            }

            CheckStringArray(root, "tags");
            CheckStringArray(root, "on_behalf_of");
            RoleNames(root);

            record.OnBehalfOf.Clear();
            if (root.TryGetProperty("on_behalf_of", out var chain) && chain.ValueKind == JsonValueKind.Array)
            {
                foreach (var link in chain.EnumerateArray())
                {
                    record.OnBehalfOf.Add(Text(link));
                }
            }

            record.BreakGlassRole = OptionalString(root, "break_glass_role");
            record.Justification = OptionalString(root, "justification");
            record.ActivatedBy = OptionalString(root, "activated_by");
            record.ActivatedAt = root.TryGetProperty("activated_at", out _) ? RequiredTime(root, "activated_at") : null;
            if (record.BreakGlassRole is not null && (record.Justification is null || record.ActivatedBy is null || record.ActivatedAt is null))
            {
                throw Bad("a break-glass record ('break_glass_role') needs 'justification', 'activated_by' and 'activated_at'");
            }

            // Version 2's condition and approval fields (docs/audit-log.md, "Record schema"), type-checked like the others.
            record.Condition = OptionalString(root, "condition");
            record.ApprovalRule = OptionalString(root, "approval_rule");
            CheckStringArray(root, "approved_by");
            record.ApprovedBy.Clear();
            if (root.TryGetProperty("approved_by", out var approvers) && approvers.ValueKind == JsonValueKind.Array)
            {
                if (record.ApprovalRule is null)
                {
                    throw Bad("'approved_by' goes with 'approval_rule'");
                }

                foreach (var approver in approvers.EnumerateArray())
                {
                    record.ApprovedBy.Add(Text(approver));
                }
            }

            if (readRequests)
            {
                ReadRequest(root);
            }
        }

        return true;
    }

    // "roles": role names, or binding objects {"role": ...} (schema 2 writes scoped and expiring bindings so); the names
    // go into Roles. Decision and retrieval records show the subject alike.
    private void RoleNames(JsonElement root)
    {
        record.Roles.Clear();
        if (root.TryGetProperty("roles", out var roles) && roles.ValueKind != JsonValueKind.Null)
        {
            if (roles.ValueKind != JsonValueKind.Array)
            {
                throw Bad("'roles' must be an array of role names");
            }

            foreach (var item in roles.EnumerateArray())
            {
                // Role names are written as strings; a binding object {"role": ...} is accepted too.
                if (item.ValueKind == JsonValueKind.String)
                {
                    record.Roles.Add(Text(item));
                }
                else if (item.ValueKind == JsonValueKind.Object && item.TryGetProperty("role", out var name) && name.ValueKind == JsonValueKind.String)
                {
                    record.Roles.Add(Text(name));
                }
                else
                {
                    throw Bad("'roles' must be an array of role names");
                }
            }
        }
    }

    private static readonly HashSet<string> BindingFields = ["role", "scope", "expires"];
    private static readonly HashSet<string> LinkFields = ["subject", "kind", "roles"];

    // The request of a decision record, for a replay: every field the record schema gives it, strictly.
    private void ReadRequest(JsonElement root)
    {
        record.Schema = 0;
        if (root.TryGetProperty("schema", out var schema))
        {
            record.Schema = schema.ValueKind == JsonValueKind.Number && schema.TryGetInt32(out int version) && version > 0
                ? version
                : throw Bad("'schema' must be a positive integer");
        }

        record.Action = RequiredString(root, "action");
        record.Resource = RequiredString(root, "resource");
        record.Reason = RequiredString(root, "reason");
        if (!DecisionReasons.TryParse(record.Reason, out var reason) || (reason == DecisionReason.Allowed) != record.Allowed)
        {
            throw Bad($"'reason' {Shorten(record.Reason)} is not a reason, or does not go with 'allowed'");
        }

        record.PolicyVersion = OptionalString(root, "policy_version");
        record.Scope = OptionalString(root, "scope");
        record.Sensitivity = OptionalString(root, "sensitivity");
        record.Owner = OptionalString(root, "owner");
        record.Tags.Clear();
        if (root.TryGetProperty("tags", out var tags) && tags.ValueKind == JsonValueKind.Array)
        {
            foreach (var tag in tags.EnumerateArray())
            {
                record.Tags.Add(Text(tag));
            }
        }

        record.TagsOmitted = 0;
        if (root.TryGetProperty("tags_omitted", out var omitted))
        {
            record.TagsOmitted = omitted.ValueKind == JsonValueKind.Number && omitted.TryGetInt64(out long n) && n > 0
                ? n
                : throw Bad("'tags_omitted' must be a positive integer");
        }

        record.ContextOmitted = false;
        if (root.TryGetProperty("context_omitted", out var contextOmitted))
        {
            record.ContextOmitted = contextOmitted.ValueKind == JsonValueKind.True ? true : throw Bad("'context_omitted' is only ever true");
        }

        record.Bindings = root.TryGetProperty("roles", out var roles) && roles.ValueKind != JsonValueKind.Null ? Bindings(roles, "roles") : null;
        record.OnBehalfOf.Clear();
        if (root.TryGetProperty("on_behalf_of", out var ids) && ids.ValueKind == JsonValueKind.Array)
        {
            foreach (var id in ids.EnumerateArray())
            {
                record.OnBehalfOf.Add(Text(id));
            }
        }

        record.Chain = null;
        if (root.TryGetProperty("chain", out var chain))
        {
            record.Chain = Chain(chain);
        }

        // The chain repeats on_behalf_of with each link's kind and roles: both or neither, naming the same ids.
        int links = record.Chain?.Count ?? 0;
        if (record.Schema >= AuditRecord.ReplayableSchema
            && (links != record.OnBehalfOf.Count || record.Chain?.Select(l => l.Id).SequenceEqual(record.OnBehalfOf, StringComparer.Ordinal) == false))
        {
            throw Bad("'chain' must name the subjects of 'on_behalf_of', in the same order");
        }
    }

    private List<(string Id, SubjectKind? Kind, List<RoleBinding>? Bindings)> Chain(JsonElement chain)
    {
        if (chain.ValueKind != JsonValueKind.Array)
        {
            throw Bad("'chain' must be an array of subjects");
        }

        var links = new List<(string, SubjectKind?, List<RoleBinding>?)>();
        foreach (var link in chain.EnumerateArray())
        {
            if (link.ValueKind != JsonValueKind.Object)
            {
                throw Bad("'chain' must be an array of subjects");
            }

            CheckFields(link, LinkFields, "a 'chain' link");
            string id = RequiredString(link, "subject");
            SubjectKind? kind = null;
            if (OptionalString(link, "kind") is { } name)
            {
                kind = SubjectKinds.TryParse(name, out var parsed) ? parsed : throw Bad($"unknown 'kind' in 'chain': {Shorten(name)}");
            }

            var bindings = link.TryGetProperty("roles", out var roles) && roles.ValueKind != JsonValueKind.Null ? Bindings(roles, "chain roles") : null;
            links.Add((id, kind, bindings));
        }

        return links;
    }

    // A role name, or a binding written as an object: {"role": ..., "scope": ..., "expires": ...}.
    private List<RoleBinding> Bindings(JsonElement roles, string what)
    {
        if (roles.ValueKind != JsonValueKind.Array)
        {
            throw Bad($"'{what}' must be an array of role bindings");
        }

        var bindings = new List<RoleBinding>();
        foreach (var item in roles.EnumerateArray())
        {
            if (item.ValueKind == JsonValueKind.String)
            {
                bindings.Add(new RoleBinding(Text(item)));
                continue;
            }

            if (item.ValueKind != JsonValueKind.Object)
            {
                throw Bad($"'{what}' must be an array of role bindings");
            }

            CheckFields(item, BindingFields, "a role binding");
            string role = RequiredString(item, "role");
            string? scope = OptionalString(item, "scope");
            DateTimeOffset? expires = null;
            if (OptionalString(item, "expires") is { } until)
            {
                expires = Rfc3339.TryParse(until, out var instant) ? instant : throw Bad($"'expires' is not an RFC 3339 date-time: {Shorten(until)}");
            }

            bindings.Add(new RoleBinding(role, scope, expires));
        }

        return bindings;
    }

    // A field the replay does not know could be a decision input it would leave out: the line is bad, not guessed at.
    private void CheckFields(JsonElement element, HashSet<string> known, string what)
    {
        foreach (var property in element.EnumerateObject())
        {
            if (!known.Contains(property.Name))
            {
                throw Bad($"unknown field {Shorten(property.Name)} in {what}");
            }
        }
    }

    private void ParseEvent(JsonElement root, JsonElement kind, DateTimeOffset instant)
    {
        if (kind.ValueKind != JsonValueKind.String)
        {
            throw Bad("'event' must be a string");
        }

        string name = Text(kind);
        if (name == "retrieval")
        {
            ParseRetrieval(root, instant);
            return;
        }

        if (name != "records_lost")
        {
            // Fail closed: a line the reviewer cannot interpret might hide lost or used grants.
            throw Bad($"unknown 'event': {Shorten(name)} (expected records_lost or retrieval)");
        }

        if (!root.TryGetProperty("lost", out var lost) || lost.ValueKind != JsonValueKind.Number || !lost.TryGetInt64(out long n) || n < 1)
        {
            throw Bad("'lost' must be present and be a positive integer");
        }

        record.Type = AuditLineType.Loss;
        record.Count = n;
        record.Time = RequiredTime(root, "first_time");
        record.LastTime = RequiredTime(root, "last_time");
        if (record.LastTime < record.Time)
        {
            throw Bad("'last_time' is before 'first_time'");
        }
    }

    // A retrieval query's record (docs/audit-log.md, "Retrieval records"): read whole, so that a malformed one stops the
    // review like any other malformed line, but it counts as no decision: it does not say which grant allowed each record.
    private void ParseRetrieval(JsonElement root, DateTimeOffset instant)
    {
        record.Type = AuditLineType.Retrieval;
        record.Time = instant;
        record.LastTime = instant;
        record.Count = 1;
        record.Subject = RequiredString(root, "subject");
        _ = RequiredString(root, "action");
        _ = RequiredString(root, "filter");
        _ = OptionalString(root, "store");
        foreach (string field in OptionalStrings)
        {
            _ = OptionalString(root, field);
        }

        record.Kind = OptionalString(root, "kind");
        if (record.Kind is not null && !SubjectKinds.TryParse(record.Kind, out _))
        {
            throw Bad($"unknown 'kind': {Shorten(record.Kind)} (expected user, service or agent)");
        }

        RoleNames(root);
        CheckStringArray(root, "on_behalf_of");
        CheckStringArray(root, "approximations");
        long candidates = Count(root, "candidates"), removed = Count(root, "removed"), returned = Count(root, "returned");
        if (removed + returned != candidates)
        {
            throw Bad("'removed' and 'returned' must add up to 'candidates'");
        }

        if (root.TryGetProperty("failed", out var failed) && (failed.ValueKind != JsonValueKind.True || returned != 0))
        {
            throw Bad("'failed' is only ever true, and a failed query returned nothing");
        }
    }

    private long Count(JsonElement root, string name)
        => root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out long n) && n >= 0
            ? n
            : throw Bad($"'{name}' must be present and be an integer of at least 0");

    private DateTimeOffset RequiredTime(JsonElement root, string name)
    {
        string text = RequiredString(root, name);
        return Rfc3339.TryParse(text, out var instant) ? instant : throw Bad($"'{name}' is not an RFC 3339 date-time: {Shorten(text)}");
    }

    private string RequiredString(JsonElement root, string name)
    {
        if (!root.TryGetProperty(name, out var value))
        {
            throw Bad($"'{name}' is missing");
        }

        return value.ValueKind == JsonValueKind.String ? Text(value) : throw Bad($"'{name}' must be a string");
    }

    private string? OptionalString(JsonElement root, string name)
    {
        if (!root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        return value.ValueKind == JsonValueKind.String ? Text(value) : throw Bad($"'{name}' must be a string");
    }

    private void CheckStringArray(JsonElement root, string name)
    {
        if (!root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return;
        }

        if (value.ValueKind != JsonValueKind.Array)
        {
            throw Bad($"'{name}' must be an array of strings");
        }

        foreach (var item in value.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.String)
            {
                throw Bad($"'{name}' must be an array of strings");
            }
        }
    }

    // A JSON string as text. The audit sink writes a lone surrogate in an id (a hostile claim) as its escape, "\ud800",
    // so that distinct ids stay distinct; .NET cannot decode it, so such a string keeps its escaped JSON form (without
    // the quotes): still distinct, and safe to print (policy-language.md, choice 25).
    private string Text(JsonElement value)
    {
        try
        {
            return value.GetString()!;
        }
        catch (InvalidOperationException)
        {
            record.Escaped = true;
            string raw = value.GetRawText();
            return raw[1..^1];
        }
    }

    private AuditLogFormatException Bad(string message) => new(LineNumber, message);

    private static string Shorten(string value) => value.Length <= 64 ? $"'{value}'" : $"'{value[..61]}...'";
}

/// <summary>Passes a reader through and remembers its last character, to tell whether the log ends with a newline.</summary>
internal sealed class EndTrackingReader(TextReader inner) : TextReader
{
    private char last;
    private bool any;

    /// <summary>Whether everything read so far ends with <c>'\n'</c> (true for an empty log).</summary>
    public bool EndsWithNewline => !any || last == '\n';

    public override int Read(char[] buffer, int index, int count)
    {
        int n = inner.Read(buffer, index, count);
        if (n > 0)
        {
            last = buffer[index + n - 1];
            any = true;
        }

        return n;
    }

    public override int Read(Span<char> buffer)
    {
        int n = inner.Read(buffer);
        if (n > 0)
        {
            last = buffer[n - 1];
            any = true;
        }

        return n;
    }

    public override int Read()
    {
        int c = inner.Read();
        if (c >= 0)
        {
            last = (char)c;
            any = true;
        }

        return c;
    }

    public override int Peek() => inner.Peek();
}
