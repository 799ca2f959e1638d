using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using AiRbac.Diagnostics;
using AiRbac.Requests;

namespace AiRbac.Cli;

/// <summary>
/// What a decision's reason alone does not say, for <c>airbac check</c> (docs/request-lines.md, "A decision line"):
/// which request field made it <c>invalid_request</c> and why, which link of the on-behalf-of chain was denied and
/// why, and which role bindings name a role the policy does not declare (with the closest declared one). Computed
/// after the decision, by the CLI, from the request and the policy: the engine's decision path is not involved.
/// </summary>
internal sealed class DecisionDetails
{
    // "Did you mean" answers per distinct undeclared name, so a corpus repeating a typo pays for it once.
    private const int MaxRememberedSuggestions = Tuning.Cli.MaxRememberedSuggestions;

    /// <summary>Undeclared role bindings reported per request line (the actor's and every link's together); the rest are counted.</summary>
    internal const int MaxUndeclaredPerLine = 10;

    /// <summary>
    /// The characters all "did you mean" searches of one run may compare together (a search compares the name with every
    /// role's name and id); once spent, undeclared roles are still reported, without a suggestion.
    /// </summary>
    internal const long MaxSuggestionCellsPerRun = Tuning.Cli.MaxSuggestionCellsPerRun;

    // The core caps one search at this many compared characters (CompiledPolicy.SuggestRole).
    private const long MaxCellsPerSuggestion = Tuning.Compile.MaxSpellingHintCells;

    private readonly CompiledPolicy policy;
    private readonly Dictionary<string, string?> suggestions = new(StringComparer.Ordinal);

    private bool suggestionBudgetSpent;

    // Per candidate compared: its length plus one (a name, and an id that differs from it).
    private readonly long candidateCells;

    public DecisionDetails(CompiledPolicy policy)
    {
        this.policy = policy;
        foreach (var role in policy.Roles)
        {
            candidateCells += role.Name.Length + 1;
            if (!string.Equals(role.Id, role.Name, StringComparison.Ordinal))
            {
                candidateCells += role.Id.Length + 1;
            }
        }
    }

    /// <summary>How many "did you mean" searches this run made (tests).</summary>
    internal int SuggestionSearches { get; private set; }

    /// <summary>The characters those searches compared, at most (tests).</summary>
    internal long SuggestionCells { get; private set; }

    /// <summary>One invalid field of a request: its path in the request line and why.</summary>
    public readonly record struct InvalidField(string Field, string Why);

    /// <summary>A role binding naming an undeclared role, and the closest declared role name or id, if any.</summary>
    public readonly record struct UndeclaredRole(string Field, string Role, string? DidYouMean);

    /// <summary>The denied link of an on-behalf-of chain (1 = the subject the actor acts for) and its own decision.</summary>
    public readonly record struct DeniedLink(int Depth, string SubjectId, Decision Decision);

    /// <summary>What is known beyond the decision line's four fields.</summary>
    /// <param name="Invalid">The invalid fields.</param>
    /// <param name="Link">The denied link.</param>
    /// <param name="Undeclared">The first <see cref="MaxUndeclaredPerLine"/> undeclared role bindings.</param>
    /// <param name="Notes">Further hints.</param>
    /// <param name="MoreUndeclared">How many further undeclared role bindings the line has (not listed).</param>
    public sealed record Details(IReadOnlyList<InvalidField> Invalid, DeniedLink? Link, IReadOnlyList<UndeclaredRole> Undeclared, IReadOnlyList<string> Notes, int MoreUndeclared = 0)
    {
        public bool IsEmpty => Invalid.Count == 0 && Link is null && Undeclared.Count == 0 && Notes.Count == 0;
    }

    /// <summary>The details of one decision for one request.</summary>
    public Details For(AuthorizationRequest request, Decision decision)
    {
        var invalid = decision.Reason == DecisionReason.InvalidRequest ? InvalidFields(request, request.Subject, string.Empty) : [];
        DeniedLink? link = decision.Reason == DecisionReason.DelegationDenied ? FindDeniedLink(request) : null;
        if (link is { } denied && denied.Decision.Reason == DecisionReason.InvalidRequest)
        {
            invalid = InvalidFields(request, LinkAt(request.Subject, denied.Depth), LinkPath(denied.Depth));
        }

        var undeclared = UndeclaredRoles(request.Subject, out int more);
        return new Details(invalid, link, undeclared, ShapeNotes(request, decision), more);
    }

    /// <summary>
    /// The engine takes any non-empty action and resource; one that is not <c>namespace:verb</c> or <c>type:name</c>
    /// matches no grant written in that form, which is worth saying when nothing matched.
    /// </summary>
    private static List<string> ShapeNotes(AuthorizationRequest request, Decision decision)
    {
        var notes = new List<string>();
        if (decision.Reason != DecisionReason.NoMatchingGrant)
        {
            return notes;
        }

        if (!IsQualified(request.Action))
        {
            notes.Add($"action '{Quote(request.Action)}' is not of the form namespace:verb (model:query, tool:invoke, data:read).");
        }

        if (!IsQualified(request.Resource.Name))
        {
            notes.Add($"resource '{Quote(request.Resource.Name)}' is not of the form type:name (model:gpt-4o, tool:search, dataset:sales/q3).");
        }

        return notes;
    }

    private static bool IsQualified(string? text)
    {
        int colon = text?.IndexOf(':', StringComparison.Ordinal) ?? -1;
        return colon > 0 && colon < text!.Length - 1;
    }

    /// <summary>Appends the details as fields of a decision line that <paramref name="line"/> holds (it ends with <c>}</c>).</summary>
    public static void AppendJson(StringBuilder line, Details details)
    {
        if (details.IsEmpty)
        {
            return;
        }

        int end = line.Length - 1;
        while (end >= 0 && line[end] != '}')
        {
            end--;
        }

        if (end < 0)
        {
            return;
        }

        string tail = line.ToString(end, line.Length - end);
        line.Length = end;
        using var buffer = new MemoryStream();
        // Escaped as the line's own fields are (RequestJson): quotes and non-ASCII letters stay readable.
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            writer.WriteStartObject();
            if (details.Invalid.Count > 0)
            {
                writer.WriteStartArray("invalid_fields");
                foreach (var field in details.Invalid)
                {
                    writer.WriteStringValue(field.Field);
                }

                writer.WriteEndArray();
            }

            if (details.Link is { } link)
            {
                writer.WriteNumber("denied_link", link.Depth);
                writer.WriteString("denied_subject", link.SubjectId);
                writer.WriteString("denied_reason", link.Decision.ReasonName);
            }

            if (details.Undeclared.Count > 0)
            {
                writer.WriteStartArray("undeclared_roles");
                foreach (var role in details.Undeclared)
                {
                    writer.WriteStartObject();
                    writer.WriteString("field", role.Field);
                    writer.WriteString("role", role.Role);
                    if (role.DidYouMean is not null)
                    {
                        writer.WriteString("did_you_mean", role.DidYouMean);
                    }

                    writer.WriteEndObject();
                }

                writer.WriteEndArray();
                if (details.MoreUndeclared > 0)
                {
                    writer.WriteNumber("undeclared_roles_more", details.MoreUndeclared);
                }
            }

            if (Sentence(details) is { } detail)
            {
                writer.WriteString("detail", detail);
            }

            writer.WriteEndObject();
        }

        // The object's members, without its braces, after the line's own.
        string members = Encoding.UTF8.GetString(buffer.GetBuffer(), 1, (int)buffer.Length - 2);
        line.Append(',').Append(members).Append(tail);
    }

    /// <summary>The details as sentences, one a line, for a person reading a single decision.</summary>
    public static IEnumerable<string> Lines(Details details)
    {
        if (details.Link is { } link)
        {
            yield return $"Denied link: {LinkSentence(link)}";
        }

        if (details.Invalid.Count > 0)
        {
            yield return $"Invalid: {string.Join("; ", details.Invalid.Select(f => $"{f.Field}: {f.Why}"))}.";
        }

        foreach (var role in details.Undeclared)
        {
            yield return $"Hint: {UndeclaredSentence(role)}";
        }

        if (details.MoreUndeclared > 0)
        {
            yield return $"Hint: {MoreSentence(details.MoreUndeclared)}";
        }

        foreach (string note in details.Notes)
        {
            yield return $"Hint: {note}";
        }
    }

    private static string? Sentence(Details details)
    {
        var parts = new List<string>();
        if (details.Link is { } link)
        {
            parts.Add(LinkSentence(link));
        }

        if (details.Invalid.Count > 0)
        {
            parts.Add(string.Join("; ", details.Invalid.Select(f => $"{f.Field}: {f.Why}")) + ".");
        }

        parts.AddRange(details.Undeclared.Select(UndeclaredSentence));
        if (details.MoreUndeclared > 0)
        {
            parts.Add(MoreSentence(details.MoreUndeclared));
        }
        parts.AddRange(details.Notes);
        return parts.Count == 0 ? null : string.Join(" ", parts);
    }

    private static string LinkSentence(DeniedLink link)
        => string.Create(CultureInfo.InvariantCulture,
            $"on_behalf_of link {link.Depth} (subject '{Quote(link.SubjectId)}') was denied: {link.Decision.Explain()}");

    private static string MoreSentence(int more)
        => string.Create(CultureInfo.InvariantCulture, $"and {more} more role bindings not declared in the policy (not listed).");

    private static string UndeclaredSentence(UndeclaredRole role)
        => $"role '{Quote(role.Role)}' ({role.Field}) is not declared in the policy"
            + (role.DidYouMean is null ? "." : $"; did you mean '{Quote(role.DidYouMean)}'?");

    // Request text is the caller's: shortened as diagnostics quote names (DiagnosticText, 100 characters), and with control
    // and bidirectional characters (newlines included, so a subject id cannot forge an output line) escaped before it is
    // shown. airbac diff --audit quotes the log's text so.
    internal static string Quote(string text) => UnsafeText.Escape(DiagnosticText.Clip(text));

    /// <summary>Step 2 (docs/policy-language.md, section 4) field by field, as the engine checks them, for one subject.</summary>
    private List<InvalidField> InvalidFields(AuthorizationRequest request, Subject? subject, string subjectPath)
    {
        var invalid = new List<InvalidField>();
        if (string.IsNullOrEmpty(request.Action))
        {
            invalid.Add(new InvalidField("action", "empty"));
        }

        if (string.IsNullOrEmpty(request.Resource.Name))
        {
            invalid.Add(new InvalidField("resource", "empty"));
        }

        if (invalid.Count > 0)
        {
            // The engine stops here: an empty action or resource is checked before anything else.
            return invalid;
        }

        if (request.Resource.Sensitivity is { } tier && !policy.Tiers.Contains(tier, StringComparer.Ordinal))
        {
            const int shown = 10;
            string tiers = string.Join(", ", policy.Tiers.Take(shown).Select(Quote)) + (policy.Tiers.Count > shown ? ", ..." : string.Empty);
            invalid.Add(new InvalidField("sensitivity", $"tier '{Quote(tier)}' is not declared (tiers: {tiers})"));
        }

        if (request.Resource.Scope is { } scope && !Scope.IsValid(scope))
        {
            invalid.Add(new InvalidField("scope", $"'{Quote(scope)}' is not a scope (non-empty segments joined by single '/')"));
        }

        if (subject?.Roles is { } roles)
        {
            for (int i = 0; i < roles.Count; i++)
            {
                if (roles[i].Scope is { } bindingScope && !Scope.IsValid(bindingScope))
                {
                    invalid.Add(new InvalidField(
                        string.Create(CultureInfo.InvariantCulture, $"{subjectPath}roles[{i}].scope"),
                        $"'{Quote(bindingScope)}' is not a scope (non-empty segments joined by single '/')"));
                }
            }
        }

        return invalid;
    }

    /// <summary>Step 9: the first link of the chain that is denied when decided alone, as the engine's trace gives it.</summary>
    private DeniedLink? FindDeniedLink(AuthorizationRequest request)
    {
        var chain = policy.Trace(request.Subject, request.Action, request.Resource, request.Context).Chain;
        int depth = chain.Count - 1;
        if (depth < 1 || chain[depth].Allowed || LinkAt(request.Subject, depth) is not { } link)
        {
            return null;
        }

        return new DeniedLink(depth, link.Id, chain[depth]);
    }

    private static Subject? LinkAt(Subject subject, int depth)
    {
        Subject? link = subject;
        for (int i = 0; i < depth && link is not null; i++)
        {
            link = link.OnBehalfOf;
        }

        return link;
    }

    private static string LinkPath(int depth) => string.Concat(Enumerable.Repeat("on_behalf_of.", depth));

    /// <summary>
    /// Role bindings given with the request (the actor's and every link's), or, for a subject the request gives no roles,
    /// the policy's bindings for its id (<see cref="CompiledPolicy.BindingsOf"/>, so a typo in the policy's own
    /// <c>bindings</c> gets a hint too), that name no declared role: the first <see cref="MaxUndeclaredPerLine"/>, each
    /// with a suggestion while the run's budget lasts; <paramref name="more"/> counts the rest (a hash lookup each, no suggestion).
    /// </summary>
    private List<UndeclaredRole> UndeclaredRoles(Subject subject, out int more)
    {
        more = 0;
        var undeclared = new List<UndeclaredRole>();
        int depth = 0;
        for (Subject? link = subject; link is not null; link = link.OnBehalfOf, depth++)
        {
            // The request's roles, else the policy's bindings for the subject's id (its own, then its groups', as step 3 reads them).
            var roles = link.Roles ?? policy.BindingsOf(link);
            string path = link.Roles is null ? $"bindings.subjects.{Quote(link.Id)}." : LinkPath(depth);
            for (int i = 0; i < roles.Count; i++)
            {
                string? role = roles[i].Role;
                if (role is null || policy.FindRole(role) is not null)
                {
                    continue;
                }

                if (undeclared.Count >= MaxUndeclaredPerLine)
                {
                    more++;
                    continue;
                }

                undeclared.Add(new UndeclaredRole(
                    string.Create(CultureInfo.InvariantCulture, $"{path}roles[{i}]"), role, Suggest(role)));
            }
        }

        return undeclared;
    }

    private string? Suggest(string role)
    {
        if (suggestions.TryGetValue(role, out string? known))
        {
            return known;
        }

        // The run's budget: a search costs at most the name's length plus one times every candidate's (capped by the core).
        long cost = Math.Min((long)(role.Length + 1) * candidateCells, MaxCellsPerSuggestion);
        if (suggestionBudgetSpent || SuggestionCells + cost > MaxSuggestionCellsPerRun)
        {
            suggestionBudgetSpent = true; // from here on, no search at all in this run
            return null;
        }

        SuggestionCells += cost;
        SuggestionSearches++;
        string? suggestion = policy.SuggestRole(role);
        if (suggestions.Count < MaxRememberedSuggestions)
        {
            suggestions.Add(role, suggestion);
        }

        return suggestion;
    }
}
