using AiRbac.Diagnostics;
using AiRbac.Model;

namespace AiRbac.Yaml.Internal;

/// <summary>
/// Turns a YAML tree into a <see cref="PolicyDocument"/>, checking structure only (docs/policy-language.md, section 2): shapes, known,
/// duplicate and required keys, and the version. Values are carried as written, with their locations; their meaning
/// (tiers, rules, patterns, kinds, timestamps, scopes, role references) is checked by the core compiler.
/// </summary>
internal sealed class PolicyDocumentReader
{
    private static readonly string[] TopKeys =
        ["version", "sensitivity", "default_sensitivity", "roles", "resources", "constraints", "bindings", "context", "approvals"];

    private static readonly string[] ApprovalKeys = ["match", "approvers", "count", "valid_for"];

    private static readonly string[] RoleKeys =
        ["description", "id", "inherits", "allow", "deny", "max_sensitivity", "clearances", "kinds", "conditions", "break_glass"];

    private static readonly string[] BreakGlassKeys = ["max_activation"];

    private static readonly string[] RangeKeys = ["min", "max"];

    private static readonly string[] ResourceKeys = ["match", "sensitivity", "tags"];

    private static readonly string[] ConstraintKeys = ["mutually_exclusive", "not_by_owner", "min_holders"];

    private static readonly string[] BindingsKeys = ["groups", "subjects"];

    private static readonly string[] SubjectKeys = ["kind", "roles", "groups", "scope", "expires"];

    private static readonly string[] RoleBindingKeys = ["role", "scope", "expires"];

    // A hostile file can hold up to MaxNodes wrong values; past this many errors, one more says the rest were dropped.
    private const int MaxReportedErrors = Tuning.Compile.MaxReportedDiagnostics;

    private const int MaxQuotedLength = 80;

    private readonly string source;
    private readonly List<PolicyDiagnostic> diagnostics;
    private readonly HashSet<(YamlNode Node, string Code, string? Detail)> reported = [];

    // Where the reader put a stand-in for a value it already reported (a missing 'version', 'roles', 'match'), and the
    // compiler error that the stand-in would cause there: a consequence, not a second problem.
    private readonly HashSet<(SourceLocation Location, string Code)> consequences = [];

    // Compiler error codes that are consequences of a reported problem wherever they occur (an unreadable tier list
    // makes every tier look undeclared).
    private readonly HashSet<string> consequenceCodes = new(StringComparer.Ordinal);
    private int errorCount;

    private PolicyDocumentReader(string source, List<PolicyDiagnostic> diagnostics)
    {
        this.source = source;
        this.diagnostics = diagnostics;
    }

    /// <summary>
    /// Reads the document; every structural problem is added to <paramref name="diagnostics"/>. The document holds
    /// everything that could be read, even when there were problems, so that its meaning can be checked too.
    /// </summary>
    public static DocumentRead Read(YamlNode? root, string source, List<PolicyDiagnostic> diagnostics)
    {
        var reader = new PolicyDocumentReader(source, diagnostics);
        var document = reader.ReadDocument(root);
        return new DocumentRead(document, reader.errorCount > MaxReportedErrors, reader.IsConsequence);
    }

    /// <summary>Whether a compiler error on the document read is only a consequence of a problem the reader reported.</summary>
    private bool IsConsequence(PolicyDiagnostic diagnostic)
        => consequenceCodes.Contains(diagnostic.Code) || consequences.Contains((diagnostic.Location, diagnostic.Code));

    private PolicyDocument ReadDocument(YamlNode? root)
    {
        if (root is null or YamlScalar { IsEmptyPlain: true })
        {
            // An empty file, or one holding only comments or `---`.
            var where = root is null ? new SourceLocation(source, 1, 1) : Location(root);
            Error(DiagnosticCodes.MissingKey, "the policy needs the key 'version'", where);
            Error(DiagnosticCodes.MissingKey, "the policy needs the key 'roles'", where);
            return Unreadable();
        }

        if (root is not YamlMapping top)
        {
            Error(DiagnosticCodes.WrongType, $"the policy must be a mapping, found {root.Description}", root);
            return Unreadable();
        }

        var fields = Fields(top, TopKeys, string.Empty);
        var version = ReadVersion(top, fields);
        IReadOnlyList<LocatedString>? sensitivity = null;
        if (fields.TryGetValue("sensitivity", out var tiers))
        {
            int before = errorCount;
            sensitivity = OptionalList(tiers.Value, "sensitivity");
            if (errorCount != before)
            {
                // Some tiers could not be read: a tier named elsewhere may be one of them.
                consequenceCodes.Add(DiagnosticCodes.UnknownTier);
            }
        }

        var defaultSensitivity = OptionalScalar(fields, "default_sensitivity", string.Empty);
        var roles = ReadRoles(top, fields);
        var resources = fields.TryGetValue("resources", out var catalog) ? ReadResources(catalog.Value) : [];
        var constraints = fields.TryGetValue("constraints", out var section) ? ReadConstraints(section.Value) : new PolicyConstraints();
        var bindings = fields.TryGetValue("bindings", out var assigned) ? ReadBindings(assigned.Value) : new PolicyBindings();
        var context = fields.TryGetValue("context", out var keys) ? ReadContext(keys.Value) : null;
        var approvals = fields.TryGetValue("approvals", out var approvalRules) ? ReadApprovals(approvalRules.Value) : null;

        return new PolicyDocument
        {
            SourceName = source,
            Version = version,
            Sensitivity = sensitivity,
            SensitivityLocation = tiers.Value is { } tierList ? Location(tierList) : default,
            DefaultSensitivity = defaultSensitivity,
            Roles = roles,
            RolesLocation = fields.TryGetValue("roles", out var rolesField) ? Location(rolesField.Value) : Location(top),
            Resources = resources,
            Constraints = constraints,
            Bindings = bindings,
            Context = context,
            ContextLocation = keys.Value is { } contextNode ? Location(contextNode) : default,
            Approvals = approvals,
            ApprovalsLocation = approvalRules.Value is { } approvalsNode ? Location(approvalsNode) : default,
        };
    }

    private LocatedString ReadVersion(YamlMapping top, Dictionary<string, Field> fields)
    {
        if (!fields.TryGetValue("version", out var field))
        {
            Error(DiagnosticCodes.MissingKey, "the policy needs the key 'version'", top, "version");
            consequences.Add((Location(top), DiagnosticCodes.UnsupportedVersion));
            return new LocatedString(string.Empty, Location(top));
        }

        var node = field.Value;
        if (node is YamlScalar { IsPlain: true, Value: "1" or "2" } scalar)
        {
            return Located(scalar);
        }

        var found = node switch
        {
            YamlScalar { IsTagged: true } => "a tagged scalar",
            YamlScalar { IsPlain: false } s => $"the quoted string \"{s.Value}\"",
            YamlScalar { IsEmptyPlain: true } => "an empty value",
            YamlScalar s => $"'{Shorten(s.Value)}'",
            _ => node.Description,
        };
        Error(DiagnosticCodes.UnsupportedVersion, $"version must be the plain scalar 1 or 2, found {found}", node);

        // Reported: the compiler checks the rest against a stand-in (the value as written may hold anything).
        return new LocatedString("1", Location(node));
    }

    private List<RoleDefinition> ReadRoles(YamlMapping top, Dictionary<string, Field> fields)
    {
        var roles = new List<RoleDefinition>();
        if (!fields.TryGetValue("roles", out var field))
        {
            Error(DiagnosticCodes.MissingKey, "the policy needs the key 'roles'", top, "roles");
            consequences.Add((Location(top), DiagnosticCodes.EmptyValue));
            return roles;
        }

        if (AsMapping(field.Value, "roles") is not { } mapping)
        {
            consequences.Add((Location(field.Value), DiagnosticCodes.EmptyValue));
            return roles;
        }

        if (mapping.Entries.Count == 0)
        {
            Error(DiagnosticCodes.EmptyValue, "roles must declare at least one role", mapping);
            consequences.Add((Location(mapping), DiagnosticCodes.EmptyValue));
            return roles;
        }

        // Entries with bad keys are dropped (and reported): the roles may then look empty to the compiler.
        consequences.Add((Location(mapping), DiagnosticCodes.EmptyValue));
        foreach (var (name, body) in Entries(mapping, "roles"))
        {
            var path = Child("roles", name.Value);
            var role = AsMapping(body, path) is { } definition ? Fields(definition, RoleKeys, path) : [];
            roles.Add(new RoleDefinition
            {
                Name = Located(name),
                Id = OptionalScalar(role, "id", path),
                Description = OptionalScalar(role, "description", path)?.Value,
                Inherits = OptionalScalarList(role, "inherits", path) ?? [],
                Allow = OptionalScalarList(role, "allow", path) ?? [],
                Deny = OptionalScalarList(role, "deny", path) ?? [],
                MaxSensitivity = OptionalScalar(role, "max_sensitivity", path),
                Clearances = OptionalScalarList(role, "clearances", path) ?? [],
                Kinds = role.TryGetValue("kinds", out var kinds) ? OptionalList(kinds.Value, Child(path, "kinds")) : null,
                KindsLocation = kinds.Value is { } kindList ? Location(kindList) : default,
                Conditions = role.TryGetValue("conditions", out var conditions) ? ReadConditions(conditions.Value, Child(path, "conditions")) : [],
                ConditionsLocation = conditions.Value is { } conditionMap ? Location(conditionMap) : default,
                BreakGlass = role.TryGetValue("break_glass", out var breakGlass) ? ReadBreakGlass(breakGlass.Value, Child(path, "break_glass")) : null,
                Location = Location(name),
            });
        }

        return roles;
    }

    /// <summary>The <c>context</c> section: key name to type, in file order.</summary>
    private List<ContextKeyDefinition> ReadContext(YamlNode node)
    {
        var keys = new List<ContextKeyDefinition>();
        if (AsMapping(node, "context") is not { } mapping)
        {
            return keys;
        }

        foreach (var (name, type) in Entries(mapping, "context"))
        {
            if (Scalar(type, Child("context", name.Value)) is { } value)
            {
                keys.Add(new ContextKeyDefinition { Name = Located(name), Type = value });
            }
        }

        return keys;
    }

    /// <summary>The <c>approvals</c> section: rule name to <c>{match, approvers, count, valid_for}</c>, in file order.</summary>
    private List<ApprovalRuleDefinition> ReadApprovals(YamlNode node)
    {
        var rules = new List<ApprovalRuleDefinition>();
        if (AsMapping(node, "approvals") is not { } mapping)
        {
            return rules;
        }

        foreach (var (name, body) in Entries(mapping, "approvals"))
        {
            var path = Child("approvals", name.Value);
            var fields = AsMapping(body, path) is { } definition ? Fields(definition, ApprovalKeys, path) : [];
            rules.Add(new ApprovalRuleDefinition
            {
                Name = Located(name),
                Match = OptionalScalarList(fields, "match", path) ?? [],
                MatchLocation = fields.TryGetValue("match", out var match) ? Location(match.Value) : Location(name),
                Approvers = OptionalScalarList(fields, "approvers", path) ?? [],
                ApproversLocation = fields.TryGetValue("approvers", out var approvers) ? Location(approvers.Value) : Location(name),
                Count = OptionalScalar(fields, "count", path),
                ValidFor = OptionalScalar(fields, "valid_for", path),
                Location = Location(name),
            });
        }

        return rules;
    }

    /// <summary>A role's <c>break_glass</c>: a mapping <c>{max_activation}</c>.</summary>
    private BreakGlassDefinition? ReadBreakGlass(YamlNode node, string path)
    {
        if (AsMapping(node, path) is not { } mapping)
        {
            return null;
        }

        var fields = Fields(mapping, BreakGlassKeys, path);
        return new BreakGlassDefinition { MaxActivation = OptionalScalar(fields, "max_activation", path), Location = Location(mapping) };
    }

    /// <summary>A role's <c>conditions</c>: key to a scalar, a list of scalars, or a mapping <c>{min, max}</c>.</summary>
    private List<ConditionDefinition> ReadConditions(YamlNode node, string path)
    {
        var conditions = new List<ConditionDefinition>();
        if (AsMapping(node, path) is not { } mapping)
        {
            return conditions;
        }

        foreach (var (key, value) in Entries(mapping, path))
        {
            var itemPath = Child(path, key.Value);
            switch (value)
            {
                case YamlScalar scalar:
                    conditions.Add(new ConditionDefinition { Key = Located(key), Values = [Located(scalar)], Location = Location(scalar) });
                    break;
                case YamlSequence sequence:
                    conditions.Add(new ConditionDefinition { Key = Located(key), Values = Scalars(sequence, itemPath), IsList = true, Location = Location(sequence) });
                    break;
                case YamlMapping range:
                    var bounds = Fields(range, RangeKeys, itemPath);
                    conditions.Add(new ConditionDefinition
                    {
                        Key = Located(key),
                        Min = OptionalScalar(bounds, "min", itemPath),
                        Max = OptionalScalar(bounds, "max", itemPath),
                        IsRange = true,
                        Location = Location(range),
                    });
                    break;
            }
        }

        return conditions;
    }

    private List<ResourceClassification> ReadResources(YamlNode node)
    {
        var resources = new List<ResourceClassification>();
        if (AsSequence(node, "resources") is not { } sequence)
        {
            return resources;
        }

        for (var i = 0; i < sequence.Items.Count; i++)
        {
            var item = sequence.Items[i];
            var path = Index("resources", i);
            if (AsMapping(item, path) is not { } entry)
            {
                continue;
            }

            var fields = Fields(entry, ResourceKeys, path);
            var match = OptionalScalar(fields, "match", path);
            if (match is null && !fields.ContainsKey("match"))
            {
                Error(DiagnosticCodes.MissingKey, $"{path} needs the key 'match'", entry, "match");
            }

            if (match is null)
            {
                consequences.Add((Location(entry), DiagnosticCodes.InvalidPattern));
            }

            resources.Add(new ResourceClassification
            {
                Match = match ?? new LocatedString(string.Empty, Location(entry)),
                Sensitivity = OptionalScalar(fields, "sensitivity", path),
                Tags = OptionalScalarList(fields, "tags", path) ?? [],
                Location = Location(entry),
            });
        }

        return resources;
    }

    private PolicyConstraints ReadConstraints(YamlNode node)
    {
        if (AsMapping(node, "constraints") is not { } mapping)
        {
            return new PolicyConstraints();
        }

        var fields = Fields(mapping, ConstraintKeys, "constraints");
        var exclusive = new List<ExclusiveRoleSet>();
        if (fields.TryGetValue("mutually_exclusive", out var sets)
            && AsSequence(sets.Value, "constraints.mutually_exclusive") is { } lists)
        {
            for (var i = 0; i < lists.Items.Count; i++)
            {
                var list = lists.Items[i];
                var path = Index("constraints.mutually_exclusive", i);
                if (AsSequence(list, path) is { } roles)
                {
                    exclusive.Add(new ExclusiveRoleSet { Roles = Scalars(roles, path), Location = Location(roles) });
                }
            }
        }

        var minHolders = new List<MinHoldersRequirement>();
        if (fields.TryGetValue("min_holders", out var counts)
            && AsMapping(counts.Value, "constraints.min_holders") is { } byRole)
        {
            foreach (var (role, count) in Entries(byRole, "constraints.min_holders"))
            {
                if (Scalar(count, Child("constraints.min_holders", role.Value)) is { } value)
                {
                    minHolders.Add(new MinHoldersRequirement(Located(role), value));
                }
            }
        }

        return new PolicyConstraints
        {
            MutuallyExclusive = exclusive,
            NotByOwner = OptionalScalarList(fields, "not_by_owner", "constraints") ?? [],
            MinHolders = minHolders,
        };
    }

    private PolicyBindings ReadBindings(YamlNode node)
    {
        if (AsMapping(node, "bindings") is not { } mapping)
        {
            return new PolicyBindings();
        }

        var fields = Fields(mapping, BindingsKeys, "bindings");
        var groups = new List<GroupDefinition>();
        if (fields.TryGetValue("groups", out var groupsField) && AsMapping(groupsField.Value, "bindings.groups") is { } byGroup)
        {
            foreach (var (name, roles) in Entries(byGroup, "bindings.groups"))
            {
                groups.Add(new GroupDefinition
                {
                    Name = Located(name),
                    Roles = RoleBindings(roles, Child("bindings.groups", name.Value)),
                    Location = Location(name),
                });
            }
        }

        var subjects = new List<SubjectDefinition>();
        if (fields.TryGetValue("subjects", out var subjectsField)
            && AsMapping(subjectsField.Value, "bindings.subjects") is { } byId)
        {
            foreach (var (id, body) in Entries(byId, "bindings.subjects"))
            {
                var path = Child("bindings.subjects", id.Value);
                var subject = AsMapping(body, path) is { } definition ? Fields(definition, SubjectKeys, path) : [];
                subjects.Add(new SubjectDefinition
                {
                    Id = Located(id),
                    Kind = OptionalScalar(subject, "kind", path),
                    Roles = subject.TryGetValue("roles", out var roles) ? RoleBindings(roles.Value, Child(path, "roles")) : [],
                    Groups = OptionalScalarList(subject, "groups", path) ?? [],
                    Scope = OptionalScalar(subject, "scope", path),
                    Expires = OptionalScalar(subject, "expires", path),
                    Location = Location(id),
                });
            }
        }

        return new PolicyBindings { Groups = groups, Subjects = subjects };
    }

    /// <summary>A list of role bindings: each a role name, or a mapping <c>{role, scope, expires}</c>.</summary>
    private List<RoleBindingDefinition> RoleBindings(YamlNode node, string path)
    {
        var bindings = new List<RoleBindingDefinition>();
        if (AsSequence(node, path) is not { } sequence)
        {
            return bindings;
        }

        for (var i = 0; i < sequence.Items.Count; i++)
        {
            var item = sequence.Items[i];
            var itemPath = Index(path, i);
            switch (item)
            {
                case YamlScalar name:
                    bindings.Add(new RoleBindingDefinition { Role = Located(name), Location = Location(name) });
                    break;
                case YamlMapping mapping:
                    var fields = Fields(mapping, RoleBindingKeys, itemPath);
                    var role = OptionalScalar(fields, "role", itemPath);
                    if (role is null && !fields.ContainsKey("role"))
                    {
                        Error(DiagnosticCodes.MissingKey, $"{itemPath} needs the key 'role'", mapping, "role");
                    }

                    bindings.Add(new RoleBindingDefinition
                    {
                        Role = role ?? new LocatedString(string.Empty, Location(mapping)),
                        Scope = OptionalScalar(fields, "scope", itemPath),
                        Expires = OptionalScalar(fields, "expires", itemPath),
                        Location = Location(mapping),
                    });
                    break;
                default:
                    Error(
                        DiagnosticCodes.WrongType,
                        $"{itemPath} must be a role name or a mapping {{role, scope, expires}}, found {item.Description}",
                        item);
                    break;
            }
        }

        return bindings;
    }

    /// <summary>The entries of a mapping with a fixed set of keys; reports unknown keys.</summary>
    private Dictionary<string, Field> Fields(YamlMapping mapping, string[] known, string path)
    {
        var fields = new Dictionary<string, Field>(StringComparer.Ordinal);
        foreach (var (key, value) in Entries(mapping, path))
        {
            if (Array.IndexOf(known, key.Value) < 0)
            {
                var hint = Nearest(key.Value, known) is { } near ? $"; did you mean '{near}'?" : $"; expected one of: {string.Join(", ", known)}";
                Error(DiagnosticCodes.UnknownKey, $"unknown key '{Shorten(key.Value)}' in {Where(path)}{hint}", key);
                continue;
            }

            fields.Add(key.Value, new Field(key, value));
        }

        return fields;
    }

    /// <summary>The entries of a mapping whose keys are names; reports non-scalar, merge and duplicate keys.</summary>
    private List<(YamlScalar Key, YamlNode Value)> Entries(YamlMapping mapping, string path)
    {
        var entries = new List<(YamlScalar Key, YamlNode Value)>(mapping.Entries.Count);
        var seen = new Dictionary<string, YamlScalar>(StringComparer.Ordinal);
        foreach (var (keyNode, value) in mapping.Entries)
        {
            if (keyNode is not YamlScalar key)
            {
                Error(DiagnosticCodes.WrongType, $"keys in {Where(path)} must be scalars, found {keyNode.Description}", keyNode);
                continue;
            }

            if (key is { IsPlain: true, Value: "<<" })
            {
                Error(DiagnosticCodes.UnknownKey, $"YAML merge keys ('<<') are not supported, in {Where(path)}", key);
                continue;
            }

            if (seen.TryGetValue(key.Value, out var first))
            {
                Error(
                    DiagnosticCodes.DuplicateKey,
                    $"duplicate key '{Shorten(key.Value)}' in {Where(path)} (first at line {first.Line}, column {first.Column})",
                    key);
                continue;
            }

            seen.Add(key.Value, key);
            entries.Add((key, value));
        }

        return entries;
    }

    private LocatedString? OptionalScalar(Dictionary<string, Field> fields, string key, string path)
        => fields.TryGetValue(key, out var field) ? Scalar(field.Value, Child(path, key)) : null;

    private List<LocatedString>? OptionalScalarList(Dictionary<string, Field> fields, string key, string path)
        => fields.TryGetValue(key, out var field) ? ScalarList(field.Value, Child(path, key)) : null;

    private LocatedString? Scalar(YamlNode node, string path)
    {
        if (node is YamlScalar scalar)
        {
            return Located(scalar);
        }

        Error(DiagnosticCodes.WrongType, $"{path} must be a scalar, found {node.Description}", node);
        return null;
    }

    private List<LocatedString> ScalarList(YamlNode node, string path)
        => AsSequence(node, path) is { } sequence ? Scalars(sequence, path) : [];

    /// <summary>A list whose absence means something (every kind, the default tiers): not a list reads as absent, not as empty.</summary>
    private List<LocatedString>? OptionalList(YamlNode node, string path)
        => AsSequence(node, path) is { } sequence ? Scalars(sequence, path) : null;

    /// <summary>The document of a file with no readable top-level mapping: nothing to check beyond what was reported.</summary>
    private PolicyDocument Unreadable()
    {
        consequenceCodes.Add(DiagnosticCodes.EmptyValue);
        consequenceCodes.Add(DiagnosticCodes.UnsupportedVersion);
        return new PolicyDocument { SourceName = source, Version = new LocatedString("1", new SourceLocation(source, 1, 1)) };
    }

    private List<LocatedString> Scalars(YamlSequence sequence, string path)
    {
        var values = new List<LocatedString>(sequence.Items.Count);
        for (var i = 0; i < sequence.Items.Count; i++)
        {
            if (Scalar(sequence.Items[i], Index(path, i)) is { } value)
            {
                values.Add(value);
            }
        }

        if (values.Count < sequence.Items.Count)
        {
            // Items were dropped (and reported): the list may now look empty or too short to the compiler.
            var at = Location(sequence);
            consequences.Add((at, DiagnosticCodes.EmptyValue));
            consequences.Add((at, DiagnosticCodes.InvalidKind));
            consequences.Add((at, DiagnosticCodes.InvalidExclusiveSet));
        }

        return values;
    }

    private YamlMapping? AsMapping(YamlNode node, string path)
    {
        if (node is YamlMapping mapping)
        {
            return mapping;
        }

        Error(DiagnosticCodes.WrongType, $"{path} must be a mapping, found {node.Description}", node);
        return null;
    }

    private YamlSequence? AsSequence(YamlNode node, string path)
    {
        if (node is YamlSequence sequence)
        {
            return sequence;
        }

        Error(DiagnosticCodes.WrongType, $"{path} must be a list, found {node.Description}", node);
        return null;
    }

    private void Error(string code, string message, SourceLocation location)
    {
        if (errorCount++ < MaxReportedErrors)
        {
            diagnostics.Add(PolicyDiagnostic.Error(code, message, location));
        }
        else if (errorCount == MaxReportedErrors + 1)
        {
            diagnostics.Add(PolicyDiagnostic.Error(
                DiagnosticCodes.LimitExceeded,
                $"more than {MaxReportedErrors} errors; the rest are not reported",
                location));
        }
    }

    /// <summary>
    /// Reports a problem of a node once: a node shared through aliases is read once per use, but its problem is one
    /// (reported with the path of its first use). <paramref name="detail"/> tells apart problems of one node with one code.
    /// </summary>
    private void Error(string code, string message, YamlNode node, string? detail = null)
    {
        if (reported.Add((node, code, detail)))
        {
            Error(code, message, Location(node));
        }
    }

    private LocatedString Located(YamlScalar scalar) => new(scalar.Value, Location(scalar));

    private SourceLocation Location(YamlNode node) => new(source, node.Line, node.Column);

    private static string Child(string path, string key) => path.Length == 0 ? Shorten(key) : $"{path}.{Shorten(key)}";

    /// <summary>A value as quoted in a message: long values (up to the scalar limit) are cut so messages stay short.</summary>
    private static string Shorten(string value) => value.Length <= MaxQuotedLength ? value : $"{value[..MaxQuotedLength]}...";

    private static string Index(string path, int index) => $"{path}[{index}]";

    private static string Where(string path) => path.Length == 0 ? "the policy" : path;

    /// <summary>The known key closest to a misspelt one, when it is close enough to be a likely typo.</summary>
    private static string? Nearest(string key, string[] known)
    {
        string? best = null;
        var bestDistance = int.MaxValue;
        foreach (var candidate in known)
        {
            var distance = EditDistance(key, candidate);
            if (distance < bestDistance)
            {
                best = candidate;
                bestDistance = distance;
            }
        }

        return best is not null && bestDistance <= Math.Max(1, Math.Min(key.Length, best.Length) / 3) ? best : null;
    }

    private static int EditDistance(string a, string b)
    {
        if (a.Length > 64 || b.Length > 64)
        {
            // Keys this long are not typos of a policy key; do not spend time on them.
            return int.MaxValue;
        }

        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++)
        {
            previous[j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
                current[j] = Math.Min(substitution, Math.Min(previous[j], current[j - 1]) + 1);
            }

            (previous, current) = (current, previous);
        }

        return previous[b.Length];
    }

    private readonly record struct Field(YamlScalar Key, YamlNode Value);
}

/// <summary>What the reader read: the document (partial when there were problems) and how to tell the compiler's own errors from consequences.</summary>
/// <param name="Document">Everything that could be read.</param>
/// <param name="ErrorLimitReached">Whether the reader stopped reporting at its error limit (the compiler is then not run).</param>
/// <param name="IsConsequence">Whether a compiler error is only a consequence of a problem the reader already reported.</param>
internal sealed record DocumentRead(PolicyDocument Document, bool ErrorLimitReached, Func<PolicyDiagnostic, bool> IsConsequence);
