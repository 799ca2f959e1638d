using System.Globalization;
using System.Text;
using AiRbac.Patterns;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace AiRbac.Cli.Import;

/// <summary>The outcome of a conversion: the policy text and the notes about what could not be mapped, or an error.</summary>
/// <param name="Policy">The AiRbac policy YAML, or <see langword="null"/> on error.</param>
/// <param name="Unmapped">What was not mapped (also written as comments in the policy).</param>
/// <param name="Error">Why nothing could be converted, or <see langword="null"/>.</param>
/// <param name="Gaps">What the gateway needs that the converted policy grants no one (also written as comments).</param>
internal sealed record ImportResult(string? Policy, IReadOnlyList<string> Unmapped, string? Error, IReadOnlyList<string> Gaps);

/// <summary>
/// Converts a gateway-style runtime <c>rbac</c> block into an AiRbac policy (mapping in docs/import-keeptrusts.md):
/// <c>roles.R.allowed_tools</c> / <c>denied_tools</c> globs become <c>tool:invoke on tool:GLOB</c> grants and denies,
/// <c>data_access.R.max_sensitivity</c> the role's ceiling, <c>minimum_necessary.allowed_phi_roles</c> a <c>phi</c>
/// clearance, and <c>deny_if_missing</c> a comment (AiRbac always denies by default). The block is read at the top level
/// (<c>rbac:</c>) or where the gateway's runtime configuration keeps it (<c>policy.rbac</c>, run by
/// <c>policy.policies.chain</c>).
/// </summary>
internal static class KeeptrustsImporter
{
    /// <summary>The largest input accepted.</summary>
    public const int MaxInputBytes = Tuning.Cli.ImportMaxInputBytes;

    // Aliases can make a small file name the same long list many times; this bounds the work and the output.
    private const int MaxItems = Tuning.Cli.ImportMaxItems;

    private static readonly string[] Tiers = ["public", "internal", "confidential", "restricted"];

    /// <summary>Converts the YAML text.</summary>
    public static ImportResult Convert(string yaml, string sourceName)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(yaml));
        }
        catch (YamlException e)
        {
            return Fail(string.Create(CultureInfo.InvariantCulture, $"{sourceName}:{e.Start.Line}:{e.Start.Column}: {e.Message}"));
        }

        if (stream.Documents.Count != 1)
        {
            return Fail($"{sourceName}: expected exactly one YAML document, found {stream.Documents.Count}");
        }

        if (stream.Documents[0].RootNode is not YamlMappingNode root)
        {
            return Fail($"{sourceName}: expected a mapping with an 'rbac:' mapping, at the top level or under 'policy:' (policy.rbac)");
        }

        if (FindMergeKey(root) is { } merge)
        {
            // PyYAML (and so the gateway) applies '<<: *base': a role gets the merged denied_tools. Reading the key as an
            // unknown field would drop those denies while keeping the allows; resolving it here could differ from the
            // gateway in the details (order, overrides, nested merges). Refuse: a deny is never dropped.
            return Fail(string.Create(CultureInfo.InvariantCulture,
                $"{sourceName}:{merge.Start.Line}:{merge.Start.Column}: YAML merge key '<<' is not supported: the gateway applies it (the merged fields, denied_tools included, belong to the mapping), and converting without it could drop denies; write the merged fields out in full"));
        }

        var state = new State(sourceName);
        var topLevel = Child(root, "rbac");
        var policySection = Child(root, "policy") as YamlMappingNode;
        var nested = policySection is null ? null : Child(policySection, "rbac");
        if (topLevel is not null && nested is not null)
        {
            // Which one does the gateway read? Converting either could grant what the gateway does not: refuse.
            return Fail(string.Create(CultureInfo.InvariantCulture,
                $"{sourceName}: two rbac blocks, at the top level (line {KeyOf(root, "rbac").Start.Line}) and under policy: (line {KeyOf(policySection!, "rbac").Start.Line}); keep the one the gateway runs"));
        }

        if ((topLevel ?? nested) is not YamlMappingNode rbac)
        {
            return Fail($"{sourceName}: expected an 'rbac:' mapping, at the top level or under 'policy:' (policy.rbac)");
        }

        string within = topLevel is not null ? "rbac" : "policy";
        foreach (var (key, _) in root.Children)
        {
            if (KeyText(key) != within)
            {
                state.Note(key, $"top-level key '{KeyText(key)}' is outside the rbac block and was ignored");
            }
        }

        if (nested is not null)
        {
            ReadPolicySection(state, policySection!);
        }

        foreach (var (key, value) in rbac.Children)
        {
            switch (KeyText(key))
            {
                case "roles":
                    ReadRoles(state, value);
                    break;
                case "data_access":
                    ReadDataAccess(state, value);
                    break;
                case "minimum_necessary":
                    ReadMinimumNecessary(state, value);
                    break;
                case "deny_if_missing":
                    ReadDenyIfMissing(state, value);
                    break;
                default:
                    state.Note(key, $"rbac.{KeyText(key)} has no AiRbac equivalent and was not mapped");
                    break;
            }

            if (state.Error is not null)
            {
                return Fail(state.Error);
            }
        }

        if (state.Roles.Count == 0)
        {
            return Fail($"{sourceName}: the rbac block names no role, and an AiRbac policy needs at least one");
        }

        var gaps = Gaps(state);
        return new ImportResult(Write(state, gaps), state.Unmapped, null, gaps);
    }

    private static ImportResult Fail(string error) => new(null, [], error, []);

    /// <summary>
    /// The first YAML merge key (<c>&lt;&lt;</c>, plain or quoted, or tagged <c>!!merge</c>) anywhere in the document, or
    /// <see langword="null"/>. Each node is visited once (aliases share nodes), so an alias bomb costs its distinct nodes.
    /// </summary>
    private static YamlNode? FindMergeKey(YamlNode root)
    {
        var seen = new HashSet<YamlNode>(ReferenceEqualityComparer.Instance);
        var pending = new Stack<YamlNode>();
        pending.Push(root);
        while (pending.Count > 0)
        {
            var node = pending.Pop();
            if (!seen.Add(node))
            {
                continue;
            }

            switch (node)
            {
                case YamlMappingNode mapping:
                    foreach (var (key, value) in mapping.Children)
                    {
                        if (key is YamlScalarNode { Value: "<<" } || (!key.Tag.IsEmpty && key.Tag.Value == "tag:yaml.org,2002:merge"))
                        {
                            return key;
                        }

                        pending.Push(key);
                        pending.Push(value);
                    }

                    break;
                case YamlSequenceNode sequence:
                    foreach (var item in sequence.Children)
                    {
                        pending.Push(item);
                    }

                    break;
                default:
                    break;
            }
        }

        return null;
    }

    /// <summary>The gateway's runtime shape: <c>policy: { policies: { chain: [..., rbac, ...] }, rbac: {...} }</c>.</summary>
    private static void ReadPolicySection(State state, YamlMappingNode policy)
    {
        var chain = Child(policy, "policies") is YamlMappingNode section ? Child(section, "chain") : null;
        foreach (var (key, value) in policy.Children)
        {
            string name = KeyText(key);
            if (name == "rbac")
            {
                continue;
            }

            if (name != "policies" || value is not YamlMappingNode policies)
            {
                state.Note(key, $"policy.{name} is outside the rbac block and was ignored");
                continue;
            }

            foreach (var (field, _) in policies.Children)
            {
                if (KeyText(field) != "chain")
                {
                    state.Note(field, $"policy.policies.{KeyText(field)} is outside the rbac block and was ignored");
                }
            }
        }

        if (chain is null)
        {
            return;
        }

        var steps = Strings(state, chain, "policy.policies.chain", null).Select(item => item.Text.Trim()).ToList();
        if (!steps.Contains("rbac", StringComparer.Ordinal))
        {
            // The gateway does not run the block: the converted policy enforces what the gateway today does not.
            state.Chain = $"the gateway's policy.policies.chain [{Clip(string.Join(", ", steps))}] does not run rbac: the gateway does not enforce this block today, and the converted policy denies what the gateway lets through";
            state.Note(chain, state.Chain);
        }
        else if (steps.Any(step => step != "rbac"))
        {
            state.Note(chain, $"policy.policies.chain also runs [{Clip(string.Join(", ", steps.Where(step => step != "rbac")))}]: those steps are not part of the rbac block and were not mapped");
        }
    }

    /// <summary>What the gateway asks AiRbac (docs/integrations.md) that no converted role grants.</summary>
    private static List<string> Gaps(State state)
    {
        var gaps = new List<string>();
        if (!state.Roles.Any(role => role.GrantsModelQuery))
        {
            gaps.Add("no role grants model:query: behind the chat gate (AiRbac.Extensions.AI authorizes 'model:query' on 'model:<id>' before every chat request) every chat request would be denied (no_matching_grant); grant it, for example 'model:query on model:*', to the roles that may chat");
        }

        if (!state.Roles.Any(role => role.Allow.Count > 0))
        {
            gaps.Add("no role grants tool:invoke: every tool call would be denied (no allowed_tools survived the conversion)");
        }

        var empty = state.Roles.Where(role => role.Allow.Count == 0).Select(role => role.Name).ToList();
        if (empty.Count > 0 && empty.Count < state.Roles.Count)
        {
            gaps.Add($"roles that grant nothing (their holders are denied every request, whatever their ceiling or clearances): {Clip(string.Join(", ", empty))}");
        }

        return gaps;
    }

    private static void ReadRoles(State state, YamlNode node)
    {
        if (node is not YamlMappingNode roles)
        {
            state.Note(node, "rbac.roles is not a mapping of role names and was not mapped");
            return;
        }

        foreach (var (key, value) in roles.Children)
        {
            if (state.Role(key) is not { } role)
            {
                continue;
            }

            if (value is YamlScalarNode { Value: null or "" })
            {
                continue; // a role with nothing under it
            }

            if (value is not YamlMappingNode body)
            {
                state.Note(value, $"rbac.roles.{role.Name} is not a mapping and was not mapped", role);
                continue;
            }

            foreach (var (field, list) in body.Children)
            {
                string name = KeyText(field);
                bool allow = name == "allowed_tools";
                if (!allow && name != "denied_tools")
                {
                    state.Note(field, $"rbac.roles.{role.Name}.{name} has no AiRbac equivalent and was not mapped", role);
                    continue;
                }

                foreach (var (item, glob) in Strings(state, list, $"rbac.roles.{role.Name}.{name}", role, restricts: !allow))
                {
                    string pattern = glob;
                    if (!IsMappableGlob(glob))
                    {
                        if (allow)
                        {
                            // Dropping an allow only narrows access: the safe direction.
                            state.Note(item, $"allowed tool glob '{Clip(glob)}' of {role.Name} uses characters AiRbac patterns do not support (spaces, [ ], braces, backslashes, quotes, control characters) and was not mapped", role);
                            continue;
                        }

                        // A deny must never be dropped: widen it so that it denies at least what the source denied.
                        pattern = Widen(glob);
                        state.Note(item, $"denied tool glob '{Clip(glob)}' of {role.Name} uses characters AiRbac patterns do not support; it was widened to '{pattern}', which denies at least as much", role);
                    }

                    string rule = RuleText.Format("tool:invoke", "tool:" + pattern);
                    var target = allow ? role.Allow : role.Deny;
                    if (!target.Contains(rule))
                    {
                        target.Add(rule);
                    }
                }
            }
        }
    }

    private static void ReadDataAccess(State state, YamlNode node)
    {
        if (node is not YamlMappingNode access)
        {
            state.Note(node, "rbac.data_access is not a mapping of role names and was not mapped");
            return;
        }

        foreach (var (key, value) in access.Children)
        {
            if (state.Role(key) is not { } role)
            {
                continue;
            }

            if (value is not YamlMappingNode body)
            {
                state.Note(value, $"rbac.data_access.{role.Name} is not a mapping and was not mapped", role);
                continue;
            }

            foreach (var (field, tier) in body.Children)
            {
                string name = KeyText(field);
                if (name != "max_sensitivity")
                {
                    state.Note(field, $"rbac.data_access.{role.Name}.{name} has no AiRbac equivalent and was not mapped", role);
                    continue;
                }

                string? text = (tier as YamlScalarNode)?.Value?.Trim();
                string? known = Tiers.FirstOrDefault(t => string.Equals(t, text, StringComparison.OrdinalIgnoreCase));
                if (known is null)
                {
                    state.Note(tier, $"rbac.data_access.{role.Name}.max_sensitivity '{Clip(text ?? "(not a scalar)")}' is not one of {string.Join(", ", Tiers)}; the role keeps the lowest ceiling (public)", role);
                    continue;
                }

                role.MaxSensitivity = known;
            }
        }
    }

    private static void ReadMinimumNecessary(State state, YamlNode node)
    {
        if (node is not YamlMappingNode body)
        {
            state.Note(node, "rbac.minimum_necessary is not a mapping and was not mapped");
            return;
        }

        foreach (var (field, value) in body.Children)
        {
            string name = KeyText(field);
            if (name != "allowed_phi_roles")
            {
                state.Note(field, $"rbac.minimum_necessary.{name} has no AiRbac equivalent and was not mapped");
                continue;
            }

            foreach (var (item, roleName) in Strings(state, value, "rbac.minimum_necessary.allowed_phi_roles", null))
            {
                if (state.Role(item, roleName) is { } role)
                {
                    role.Phi = true;
                }
            }
        }
    }

    private static void ReadDenyIfMissing(State state, YamlNode node)
    {
        if (node is YamlSequenceNode list)
        {
            // The gateway's runtime form: the headers a request must carry. Any listed header means "deny when it is
            // missing"; an empty list requires nothing, which is the fail-open 'false'.
            state.RequiredHeaders = [.. Strings(state, list, "rbac.deny_if_missing", null).Select(item => item.Text.Trim()).Where(h => h.Length > 0).Distinct(StringComparer.OrdinalIgnoreCase)];
            state.DenyIfMissing = list.Children.Count > 0;
            state.DenyIfMissingIsList = true;
            if (state.DenyIfMissing == true)
            {
                // Explained once in the output (the header comment); the warning still goes to standard error.
                state.Warn(node, $"rbac.deny_if_missing requires the headers [{Clip(string.Join(", ", state.RequiredHeaders))}]: AiRbac does not read headers; it denies a request whose subject has no id or no role (missing_identity), so the host must map these headers to the subject and refuse a request missing any other of them before asking AiRbac");
            }

            return;
        }

        string? text = (node as YamlScalarNode)?.Value?.Trim().ToLowerInvariant();
        state.DenyIfMissing = text switch
        {
            "true" or "yes" or "on" => true,
            "false" or "no" or "off" => false,
            _ => null,
        };
        if (state.DenyIfMissing is null)
        {
            state.Note(node, $"rbac.deny_if_missing '{Clip(text ?? "(a mapping)")}' is not true, false or a list of header names; AiRbac denies a request without identity or role anyway (missing_identity)");
        }
    }

    /// <summary>
    /// The string items of a list (a single string is a one-item list). An unreadable shape or item is noted and skipped
    /// when the field grants (narrower access is the safe direction); when it <paramref name="restricts"/> (denies), it
    /// sets <see cref="State.Error"/> instead: a deny is never dropped.
    /// </summary>
    private static IEnumerable<(YamlNode Node, string Text)> Strings(State state, YamlNode node, string where, RoleDraft? role, bool restricts = false)
    {
        IEnumerable<YamlNode> items = node switch
        {
            YamlSequenceNode sequence => sequence.Children,
            YamlScalarNode { Value: null or "" } => [],
            YamlScalarNode scalar when IsNull(scalar) => [],
            YamlScalarNode scalar => [scalar],
            _ => [],
        };
        if (node is YamlMappingNode)
        {
            if (restricts)
            {
                state.Error ??= string.Create(CultureInfo.InvariantCulture,
                    $"{state.Source}:{node.Start.Line}:{node.Start.Column}: {where} is a mapping, not a list of globs; it restricts access, and a deny is never dropped: refusing to convert");
                yield break;
            }

            state.Note(node, $"{where} is a mapping, not a list, and was not mapped", role);
        }

        foreach (var item in items)
        {
            if (++state.Items > MaxItems)
            {
                state.Error ??= string.Create(CultureInfo.InvariantCulture, $"{state.Source}: more than {MaxItems} list items; refusing to convert");
                yield break;
            }

            if (item is YamlScalarNode { Value: { Length: > 0 } value } scalarItem && !IsNull(scalarItem))
            {
                yield return (item, value);
            }
            else if (restricts)
            {
                state.Error ??= string.Create(CultureInfo.InvariantCulture,
                    $"{state.Source}:{item.Start.Line}:{item.Start.Column}: an entry of {where} is empty or not a string; it restricts access, and a deny is never dropped: refusing to convert");
                yield break;
            }
            else
            {
                state.Note(item, $"an entry of {where} is empty or not a string and was not mapped", role);
            }
        }
    }

    /// <summary>A plain <c>~</c> or <c>null</c>: YAML's null, which the gateway (PyYAML) reads as no value, not as a string.</summary>
    private static bool IsNull(YamlScalarNode scalar)
        => scalar.Style is YamlDotNet.Core.ScalarStyle.Plain or YamlDotNet.Core.ScalarStyle.Any && scalar.Value is "~" or "null" or "Null" or "NULL";

    // AiRbac patterns have no escape; a character class or a space would change meaning or break the rule.
    private static bool IsMappableGlob(string glob)
    {
        foreach (char c in glob)
        {
            if (!IsSupported(c))
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsSupported(char c)
        => !(char.IsWhiteSpace(c) || char.IsControl(c) || char.IsSurrogate(c) || c is '[' or ']' or '{' or '}' or '"' or '\\');

    /// <summary>
    /// A pattern that matches every name the source glob may match: a class <c>[...]</c> and a brace group
    /// <c>{...}</c> become <c>**</c> (any text), an escape <c>\x</c> and a lone unsupported character become
    /// <c>?</c> (one character other than <c>/</c>).
    /// </summary>
    internal static string Widen(string glob)
    {
        var text = new StringBuilder(glob.Length);
        for (int i = 0; i < glob.Length; i++)
        {
            char c = glob[i];
            int close = c switch
            {
                '[' => glob.IndexOf(']', i + 1),
                '{' => glob.IndexOf('}', i + 1),
                _ => -1,
            };
            if (close > i)
            {
                text.Append("**"); // a class may match '/', which '?' never does
                i = close;
            }
            else if (c == '\\' && i + 1 < glob.Length)
            {
                text.Append('?');
                i++;
            }
            else
            {
                text.Append(IsSupported(c) ? c : '?');
            }
        }

        return text.ToString();
    }

    private static string KeyText(YamlNode key) => (key as YamlScalarNode)?.Value ?? "(complex key)";

    private static YamlNode? Child(YamlMappingNode mapping, string key)
        => mapping.Children.FirstOrDefault(pair => KeyText(pair.Key) == key).Value;

    private static YamlNode KeyOf(YamlMappingNode mapping, string key)
        => mapping.Children.First(pair => KeyText(pair.Key) == key).Key;

    private static string Clip(string text) => text.Length <= 80 ? text : text[..77] + "...";

    private static string Write(State state, List<string> gaps)
    {
        var text = new StringBuilder();
        text.Append("# AiRbac policy converted by `airbac import keeptrusts` from ").Append(Comment(state.Source)).Append('\n');
        text.Append("# Review it, then check it with `airbac lint`. Mapping: docs/import-keeptrusts.md.\n");
        text.Append("# Each allowed_tools glob is a grant 'tool:invoke on tool:GLOB', each denied_tools glob a deny (deny beats allow).\n");
        if (state.Chain is not null)
        {
            text.Append("# WARNING: ").Append(Comment(state.Chain)).Append(".\n");
        }

        switch (state.DenyIfMissing)
        {
            case true when state.RequiredHeaders.Count > 0:
                text.Append("# deny_if_missing: [").Append(Comment(Clip(string.Join(", ", state.RequiredHeaders)))).Append("] -- the gateway denies a request that lacks\n")
                    .Append("#   any of these headers. AiRbac does not read headers: it denies a request whose subject has no id or no\n")
                    .Append("#   role binding (missing_identity). Map these headers to the subject (id, roles) in the host, and refuse a\n")
                    .Append("#   request missing any other of them before asking AiRbac.\n");
                break;
            case true:
                text.Append("# deny_if_missing: true -- nothing to map: AiRbac always denies by default (no identity or no bindings:\n")
                    .Append("#   missing_identity; no matching grant: no_matching_grant).\n");
                break;
            case false:
                text.Append(state.DenyIfMissingIsList ? "# deny_if_missing: [] (no header required)" : "# deny_if_missing: false")
                    .Append(" -- NOT mapped: AiRbac cannot be told to allow requests that lack an identity,\n")
                    .Append("#   a role or a grant; they are denied (missing_identity, no_matching_grant). Grant such callers a role.\n");
                break;
            default:
                break;
        }

        if (state.Roles.Any(r => r.Phi))
        {
            text.Append("# allowed_phi_roles became 'clearances: [phi]'. A clearance matters only for resources tagged phi:\n")
                .Append("#   add a 'resources:' catalog entry such as '- match: dataset:patients/**' with 'tags: [phi]'.\n");
        }

        foreach (string gap in gaps)
        {
            text.Append("# not granted: ").Append(Comment(gap)).Append('\n');
        }

        foreach (string note in state.GlobalNotes)
        {
            text.Append("# not mapped: ").Append(Comment(note)).Append('\n');
        }

        text.Append("version: 1\n");
        text.Append("sensitivity: [public, internal, confidential, restricted]\n");
        text.Append("default_sensitivity: public\n");
        text.Append("roles:\n");
        foreach (var role in state.Roles)
        {
            text.Append("  ").Append(Quote(role.Name)).Append(":\n");
            foreach (string note in role.Notes)
            {
                text.Append("    # not mapped: ").Append(Comment(note)).Append('\n');
            }

            AppendList(text, "allow", role.Allow);
            AppendList(text, "deny", role.Deny);
            if (role.MaxSensitivity is not null)
            {
                text.Append("    max_sensitivity: ").Append(role.MaxSensitivity).Append('\n');
            }

            if (role.Phi)
            {
                text.Append("    clearances: [phi]\n");
            }

            if (role.Allow.Count == 0 && role.Deny.Count == 0 && role.MaxSensitivity is null && !role.Phi)
            {
                text.Append("    description: \"imported with no tools, ceiling or clearance\"\n");
            }
        }

        return text.ToString();
    }

    private static void AppendList(StringBuilder text, string key, List<string> items)
    {
        if (items.Count == 0)
        {
            return;
        }

        text.Append("    ").Append(key).Append(":\n");
        foreach (string item in items)
        {
            text.Append("      - ").Append(Quote(item)).Append('\n');
        }
    }

    /// <summary>A YAML double-quoted scalar: every character that could end or bend the scalar is escaped.</summary>
    internal static string Quote(string value)
    {
        var text = new StringBuilder(value.Length + 2).Append('"');
        foreach (char c in value)
        {
            switch (c)
            {
                case '"':
                    text.Append("\\\"");
                    break;
                case '\\':
                    text.Append("\\\\");
                    break;
                default:
                    if (c < 0x20 || c is >= '\u007f' and <= '\u009f' or '\u2028' or '\u2029' or '\ufeff' || char.IsSurrogate(c))
                    {
                        text.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        text.Append(c);
                    }

                    break;
            }
        }

        return text.Append('"').ToString();
    }

    /// <summary>Comment text on one line, without control characters.</summary>
    private static string Comment(string text)
    {
        var clean = new StringBuilder(text.Length);
        foreach (char c in text)
        {
            clean.Append(char.IsControl(c) || c is '\u2028' or '\u2029' ? ' ' : c);
        }

        return clean.ToString();
    }

    private sealed class RoleDraft(string name)
    {
        public string Name { get; } = name;

        public List<string> Allow { get; } = [];

        public List<string> Deny { get; } = [];

        public string? MaxSensitivity { get; set; }

        public bool Phi { get; set; }

        // The rules are the converter's own ("ACTION on RESOURCE", tools only today): an action that covers model:query.
        public bool GrantsModelQuery => Allow.Any(rule =>
            rule.StartsWith("model:query on ", StringComparison.Ordinal) || rule.StartsWith("model:* on ", StringComparison.Ordinal)
            || rule.StartsWith("* on ", StringComparison.Ordinal) || rule.StartsWith("** on ", StringComparison.Ordinal));

        public List<string> Notes { get; } = [];
    }

    private sealed class State(string source)
    {
        private readonly Dictionary<string, RoleDraft> byName = new(StringComparer.Ordinal);

        // The name as written (before trimming) of each role, and where it was first written: two names the trimming makes
        // one are refused, never merged (their grants would add up, and the last ceiling would win).
        private readonly Dictionary<string, (string Raw, YamlNode Node)> written = new(StringComparer.Ordinal);

        public string Source { get; } = source;

        public List<RoleDraft> Roles { get; } = [];

        public List<string> GlobalNotes { get; } = [];

        public List<string> Unmapped { get; } = [];

        public bool? DenyIfMissing { get; set; }

        /// <summary>The header names of a list-valued <c>deny_if_missing</c>.</summary>
        public List<string> RequiredHeaders { get; set; } = [];

        /// <summary>Whether <c>deny_if_missing</c> was a list (of header names) rather than true or false.</summary>
        public bool DenyIfMissingIsList { get; set; }

        /// <summary>Set when the gateway's chain does not run the rbac block.</summary>
        public string? Chain { get; set; }

        public int Items { get; set; }

        public string? Error { get; set; }

        public void Note(YamlNode node, string message, RoleDraft? role = null)
        {
            (role?.Notes ?? GlobalNotes).Add(message);
            Warn(node, message);
        }

        /// <summary>A warning on standard error only, for what the output already explains in its own comment.</summary>
        public void Warn(YamlNode node, string message)
            => Unmapped.Add(string.Create(CultureInfo.InvariantCulture, $"{Source}:{node.Start.Line}:{node.Start.Column}: {message}"));

        /// <summary>The draft for a role named by a mapping key, created on first mention.</summary>
        public RoleDraft? Role(YamlNode key) => Role(key, (key as YamlScalarNode)?.Value);

        public RoleDraft? Role(YamlNode node, string? name)
        {
            string? raw = name;
            name = name?.Trim();
            if (string.IsNullOrEmpty(name))
            {
                Note(node, "a role with an empty or complex name was not mapped");
                return null;
            }

            if (written.TryGetValue(name, out var first) && !string.Equals(first.Raw, raw, StringComparison.Ordinal))
            {
                Error ??= string.Create(CultureInfo.InvariantCulture,
                    $"{Source}:{node.Start.Line}:{node.Start.Column}: role name {Quote(Clip(raw!))} and role name {Quote(Clip(first.Raw))} (line {first.Node.Start.Line}) are the same role after trimming spaces; the gateway keeps them apart, and merging them would add up their grants and let one's ceiling replace the other's: rename one; refusing to convert");
                return null;
            }

            written.TryAdd(name, (raw!, node));

            if (!byName.TryGetValue(name, out var role))
            {
                if (byName.Count >= MaxItems)
                {
                    Error ??= string.Create(CultureInfo.InvariantCulture, $"{Source}: more than {MaxItems} roles; refusing to convert");
                    return null;
                }

                role = new RoleDraft(name);
                byName.Add(name, role);
                Roles.Add(role);
            }

            return role;
        }
    }
}
