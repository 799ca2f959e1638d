using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using AiRbac.Diagnostics;
using AiRbac.Model;
using AiRbac.Patterns;
using AiRbac.Requests;
using AiRbac.Yaml;
using AiRbac.Yaml.Internal;

namespace AiRbac.Cli.Testing;

/// <summary>What a case expects: the decision line's fields (docs/request-lines.md, "A decision line"); those left out are not checked.</summary>
/// <param name="Allowed">The outcome.</param>
/// <param name="Reason">The reason, or <see langword="null"/> when not checked.</param>
/// <param name="Role">The deciding role by name or id as written, or <see langword="null"/>.</param>
/// <param name="Rule">The deciding rule in canonical form (<c>ACTION on RESOURCE</c>), or <see langword="null"/>.</param>
/// <param name="Condition">Version 2: the failing condition as <see cref="Decision.Condition"/> writes it, empty for none, or <see langword="null"/>.</param>
/// <param name="ApprovalRule">Version 2: the approval rule the decision names, empty for none, or <see langword="null"/>.</param>
/// <param name="BreakGlassRole">Version 2: the break-glass role that decided (name or id), empty for a decision that is not break-glass, or <see langword="null"/>.</param>
internal sealed record Expectation(bool Allowed, DecisionReason? Reason, string? Role, string? Rule,
    string? Condition = null, string? ApprovalRule = null, string? BreakGlassRole = null);

/// <summary>One case of a test file: a request in the shape of a request line, and what its decision must be.</summary>
/// <param name="Name">The case's name (unique in its file).</param>
/// <param name="Location">Where the case starts in the test file.</param>
/// <param name="Request">The request, read by the request line codec.</param>
/// <param name="RequestLine">The request as one JSON line, for messages.</param>
/// <param name="Expect">The expected decision.</param>
/// <param name="Now">The instant to decide at, when the case gives one.</param>
internal sealed record PolicyTestCase(string Name, SourceLocation Location, AuthorizationRequest Request, string RequestLine, Expectation Expect, DateTimeOffset? Now);

/// <summary>A test file of <c>airbac test</c> (docs/policy-testing.md): the policy it tests and its cases.</summary>
/// <param name="Path">The test file's path, as given.</param>
/// <param name="PolicyPath">The policy's path: the <c>policy</c> key, relative to the test file's folder.</param>
/// <param name="PolicyLocation">Where the <c>policy</c> key's value is written.</param>
/// <param name="Now">The instant its cases are decided at unless a case says otherwise; <see langword="null"/> for the run's start.</param>
/// <param name="Cases">The cases, in file order.</param>
internal sealed record PolicyTestFile(string Path, string PolicyPath, SourceLocation PolicyLocation, DateTimeOffset? Now, IReadOnlyList<PolicyTestCase> Cases);

/// <summary>
/// Reads a test file with the YAML loader's bounded reader and tree (the same limits as a policy: size, depth, nodes,
/// scalar length, aliases), then checks its shape. Each case's <c>request</c> is turned into one JSON line and read by the
/// request line codec (<see cref="RequestJson"/>), so a case accepts exactly what <c>airbac check --requests</c> accepts.
/// Every problem is a diagnostic with the file, line and column; the file is refused when there is any.
/// </summary>
internal sealed class PolicyTestReader
{
    /// <summary>Diagnostic code of a case whose request is not a valid request line.</summary>
    public const string BadRequest = "bad_request";

    private const int MaxCases = Tuning.Cli.MaxTestCases;

    private static readonly YamlText TestFileText = new("test file");
    private static readonly string[] FileKeys = ["policy", "now", "cases"];
    private static readonly string[] CaseKeys = ["name", "request", "expect", "now"];
    private static readonly string[] ExpectKeys = ["allowed", "reason", "role", "rule", "condition", "approval_rule", "break_glass_role"];

    private readonly string source;
    private readonly List<PolicyDiagnostic> problems = [];

    private PolicyTestReader(string source) => this.source = source;

    /// <summary>Reads and checks a test file; the file, or <see langword="null"/> and every problem found.</summary>
    public static PolicyTestFile? ReadFile(string path, out IReadOnlyList<PolicyDiagnostic> problems)
    {
        var limits = YamlLoadLimits.Default;
        string? text = TestFileText.ReadFile(path, limits, out var unreadable);
        if (text is null)
        {
            problems = [unreadable!];
            return null;
        }

        return Read(text, path, out problems);
    }

    /// <summary>Reads and checks test file text (<paramref name="path"/> names it and anchors the policy path).</summary>
    public static PolicyTestFile? Read(string text, string path, out IReadOnlyList<PolicyDiagnostic> problems)
    {
        var limits = YamlLoadLimits.Default;
        if (TestFileText.CheckSize(text, path, limits) is { } tooLarge)
        {
            problems = [tooLarge];
            return null;
        }

        var reader = new PolicyTestReader(path);
        var tree = YamlTreeBuilder.Build(text, path, limits, reader.problems, "test file");
        var file = tree.Complete && reader.problems.Count == 0 ? reader.ReadRoot(tree.Root, path) : null;
        problems = [.. reader.problems.OrderBy(d => d.Location.Line).ThenBy(d => d.Location.Column)];
        return problems.Count == 0 ? file : null;
    }

    private PolicyTestFile? ReadRoot(YamlNode? root, string path)
    {
        if (root is not YamlMapping mapping)
        {
            Error(DiagnosticCodes.WrongType, $"a test file is a mapping with 'policy' and 'cases'; found {root?.Description ?? "an empty document"}", root);
            return null;
        }

        var keys = Keys(mapping, FileKeys, "a test file");
        string? policy = RequiredText(keys, "policy", mapping, "the test file");
        DateTimeOffset? now = keys.TryGetValue("now", out var nowNode) ? Instant(nowNode, "now") : null;
        var cases = new List<PolicyTestCase>();
        if (!keys.TryGetValue("cases", out var casesNode))
        {
            Error(DiagnosticCodes.MissingKey, "the test file has no 'cases'", mapping);
        }
        else if (casesNode is not YamlSequence list)
        {
            Error(DiagnosticCodes.WrongType, $"'cases' must be a list of cases; found {casesNode.Description}", casesNode);
        }
        else if (list.Items.Count == 0)
        {
            Error(DiagnosticCodes.EmptyValue, "'cases' is empty: a test file holds at least one case", list);
        }
        else if (list.Items.Count > MaxCases)
        {
            Error(DiagnosticCodes.LimitExceeded, string.Create(CultureInfo.InvariantCulture, $"the test file has {list.Items.Count} cases; at most {MaxCases} are read"), list);
        }
        else
        {
            var names = new Dictionary<string, YamlNode>(StringComparer.Ordinal);
            foreach (var item in list.Items)
            {
                if (ReadCase(item, names) is { } read)
                {
                    cases.Add(read);
                }
            }
        }

        if (policy is null || problems.Count > 0)
        {
            return null;
        }

        string folder = System.IO.Path.GetDirectoryName(path) ?? string.Empty;
        return new PolicyTestFile(path, System.IO.Path.Combine(folder, policy), At(keys["policy"]), now, cases);
    }

    private PolicyTestCase? ReadCase(YamlNode node, Dictionary<string, YamlNode> names)
    {
        if (node is not YamlMapping mapping)
        {
            Error(DiagnosticCodes.WrongType, $"a case is a mapping with 'name', 'request' and 'expect'; found {node.Description}", node);
            return null;
        }

        int before = problems.Count;
        var keys = Keys(mapping, CaseKeys, "a case");
        string? name = RequiredText(keys, "name", mapping, "the case");
        if (name is not null && !names.TryAdd(name, keys["name"]))
        {
            var first = names[name];
            Error(DiagnosticCodes.DuplicateKey, string.Create(CultureInfo.InvariantCulture,
                $"another case is named '{Quote(name)}' (line {first.Line}); case names must be unique in a file"), keys["name"]);
        }

        string where = name is null ? "the case" : $"case '{Quote(name)}'";
        DateTimeOffset? now = keys.TryGetValue("now", out var nowNode) ? Instant(nowNode, "now") : null;
        (AuthorizationRequest Request, string Line)? request = null;
        if (!keys.TryGetValue("request", out var requestNode))
        {
            Error(DiagnosticCodes.MissingKey, $"{where} has no 'request'", mapping);
        }
        else
        {
            request = ReadRequest(requestNode, where);
        }

        Expectation? expect = null;
        if (!keys.TryGetValue("expect", out var expectNode))
        {
            Error(DiagnosticCodes.MissingKey, $"{where} has no 'expect'", mapping);
        }
        else
        {
            expect = ReadExpectation(expectNode, where);
        }

        return problems.Count > before || name is null || request is null || expect is null
            ? null
            : new PolicyTestCase(name, At(mapping), request.Value.Request, request.Value.Line, expect, now);
    }

    /// <summary>The request as one JSON line, read by the request line codec: a case accepts what a corpus line accepts.</summary>
    private (AuthorizationRequest, string)? ReadRequest(YamlNode node, string where)
    {
        if (node is not YamlMapping)
        {
            Error(DiagnosticCodes.WrongType, $"{where}: 'request' must be a mapping in the shape of a request line (docs/request-lines.md); found {node.Description}", node);
            return null;
        }

        int before = problems.Count;
        string line;
        try
        {
            using var buffer = new MemoryStream();
            using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
            {
                WriteJson(writer, node, typed: false);
            }

            line = Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
        }
        catch (ArgumentException)
        {
            // Utf8JsonWriter refuses text that is not valid UTF-16 (a lone surrogate from a "\ud800" escape).
            Error(BadRequest, $"{where}: the request holds a lone surrogate, which no request line can carry", node);
            return null;
        }

        if (problems.Count > before)
        {
            return null;
        }

        try
        {
            return (RequestJson.ParseRequest(line), line);
        }
        catch (RequestFormatException e)
        {
            Error(BadRequest, $"{where}: the request is not a valid request line: {e.Message}", node);
            return null;
        }
    }

    // YAML to JSON: mappings to objects, lists to arrays, every scalar to a string (every field of a request line is text),
    // except the values of the request's 'context', which are typed as a request line types them (TypedScalar).
    private void WriteJson(Utf8JsonWriter writer, YamlNode node, bool typed, bool top = true)
    {
        switch (node)
        {
            case YamlMapping mapping:
                writer.WriteStartObject();
                var seen = new HashSet<string>(StringComparer.Ordinal);
                foreach (var (key, value) in mapping.Entries)
                {
                    if (key is not YamlScalar { } scalarKey)
                    {
                        Error(DiagnosticCodes.WrongType, $"a key of the request must be a scalar; found {key.Description}", key);
                        continue;
                    }

                    if (!seen.Add(scalarKey.Value))
                    {
                        Error(DiagnosticCodes.DuplicateKey, $"'{Quote(scalarKey.Value)}' is given twice", key);
                        continue;
                    }

                    writer.WritePropertyName(scalarKey.Value);
                    if (top && scalarKey.Value == "context" && value is YamlMapping pairs)
                    {
                        WriteContext(writer, pairs);
                    }
                    else
                    {
                        WriteJson(writer, value, typed, top: false);
                    }
                }

                writer.WriteEndObject();
                break;
            case YamlSequence sequence:
                writer.WriteStartArray();
                foreach (var item in sequence.Items)
                {
                    WriteJson(writer, item, typed, top: false);
                }

                writer.WriteEndArray();
                break;
            case YamlScalar scalar:
                if (scalar.IsEmptyPlain)
                {
                    // 'subject:' with nothing after it is YAML's null: say which was meant rather than guess.
                    Error(DiagnosticCodes.EmptyValue, "an empty value in the request; write '' for the empty string, or leave the key out", scalar);
                }

                if (typed)
                {
                    WriteTyped(writer, scalar);
                }
                else
                {
                    writer.WriteStringValue(scalar.Value);
                }

                break;
        }
    }

    // The request's context: each value typed as the request line types it (docs/policy-testing.md, "The test file").
    private void WriteContext(Utf8JsonWriter writer, YamlMapping pairs)
    {
        writer.WriteStartObject();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (key, value) in pairs.Entries)
        {
            if (key is not YamlScalar { } name)
            {
                Error(DiagnosticCodes.WrongType, $"a key of the request must be a scalar; found {key.Description}", key);
                continue;
            }

            if (!seen.Add(name.Value))
            {
                Error(DiagnosticCodes.DuplicateKey, $"context '{Quote(name.Value)}' is given twice", key);
                continue;
            }

            writer.WritePropertyName(name.Value);
            if (value is YamlScalar scalar)
            {
                WriteJson(writer, scalar, typed: true, top: false);
            }
            else
            {
                // A list or mapping: the request line codec refuses it, with its own message.
                WriteJson(writer, value, typed: false, top: false);
            }
        }

        writer.WriteEndObject();
    }

    /// <summary>
    /// A context value: a plain <c>true</c> or <c>false</c> is a bool, a plain whole number an integer (64-bit), a quoted
    /// scalar a string, and any other plain scalar a string unless YAML would read it as something else (<c>null</c>,
    /// <c>~</c>, <c>True</c>, <c>1.5</c>, <c>0x1F</c>, <c>.inf</c>): that one is an error, so that the case says which it means.
    /// </summary>
    private void WriteTyped(Utf8JsonWriter writer, YamlScalar scalar)
    {
        string text = scalar.Value;
        if (scalar.IsTagged)
        {
            Error(DiagnosticCodes.InvalidValue, $"context value '{Quote(text)}' has a YAML tag; write true, false, a whole number, or a quoted string", scalar);
            writer.WriteStringValue(text);
        }
        else if (!scalar.IsPlain)
        {
            writer.WriteStringValue(text);
        }
        else if (text is "true" or "false")
        {
            writer.WriteBooleanValue(text == "true");
        }
        else if (IsWholeNumber(text))
        {
            if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long number))
            {
                writer.WriteNumberValue(number);
            }
            else
            {
                Error(DiagnosticCodes.InvalidValue, $"context value '{Quote(text)}' is a whole number outside the 64-bit range; quote it for a string", scalar);
                writer.WriteStringValue(text);
            }
        }
        else if (IsOtherYamlType(text))
        {
            Error(DiagnosticCodes.InvalidValue,
                $"context value '{Quote(text)}' is not true, false or a whole number, but YAML reads it as one of its other types; quote it for a string", scalar);
            writer.WriteStringValue(text);
        }
        else
        {
            writer.WriteStringValue(text);
        }
    }

    private static bool IsWholeNumber(string text)
    {
        var digits = text.AsSpan(text.StartsWith('-') || text.StartsWith('+') ? 1 : 0);
        return digits.Length > 0 && !digits.ContainsAnyExceptInRange('0', '9');
    }

    // YAML 1.2 core schema (and 1.1) plain scalars that are not strings: null, other spellings of booleans, numbers.
    private static bool IsOtherYamlType(string text)
        => text is "~" or "null" or "Null" or "NULL" or "True" or "TRUE" or "False" or "FALSE"
            or "yes" or "Yes" or "YES" or "no" or "No" or "NO" or "on" or "On" or "ON" or "off" or "Off" or "OFF"
            || double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out _)
            || text.StartsWith("0x", StringComparison.Ordinal) || text.StartsWith("0o", StringComparison.Ordinal)
            || text.TrimStart('+', '-') is ".inf" or ".Inf" or ".INF" || text is ".nan" or ".NaN" or ".NAN";

    private Expectation? ReadExpectation(YamlNode node, string where)
    {
        if (node is not YamlMapping mapping)
        {
            Error(DiagnosticCodes.WrongType, $"{where}: 'expect' must be a mapping in the shape of a decision line ({{allowed, reason, role, rule}}); found {node.Description}", node);
            return null;
        }

        int before = problems.Count;
        var keys = Keys(mapping, ExpectKeys, "'expect'");
        bool? allowed = null;
        if (!keys.TryGetValue("allowed", out var allowedNode))
        {
            Error(DiagnosticCodes.MissingKey, $"{where}: 'expect' has no 'allowed' (true or false)", mapping);
        }
        else if (allowedNode is YamlScalar { IsPlain: true, Value: "true" or "false" } flag)
        {
            allowed = flag.Value == "true";
        }
        else
        {
            Error(DiagnosticCodes.InvalidValue, $"{where}: 'allowed' must be true or false", allowedNode);
        }

        DecisionReason? reason = null;
        if (keys.TryGetValue("reason", out var reasonNode) && Text(reasonNode, "reason") is { } reasonName)
        {
            if (!DecisionReasons.TryParse(reasonName, out var parsed))
            {
                Error(DiagnosticCodes.InvalidValue, $"{where}: reason '{Quote(reasonName)}' is not a decision reason ({string.Join(", ", DecisionReasons.All.Select(DecisionReasons.ToName))})", reasonNode);
            }
            else if (allowed is { } outcome && outcome != (parsed == DecisionReason.Allowed))
            {
                Error(DiagnosticCodes.InvalidValue, $"{where}: reason '{reasonName}' contradicts allowed: {(outcome ? "true" : "false")}", reasonNode);
            }
            else
            {
                reason = parsed;
            }
        }

        string? role = keys.TryGetValue("role", out var roleNode) ? Text(roleNode, "role") : null;
        string? rule = null;
        if (keys.TryGetValue("rule", out var ruleNode) && Text(ruleNode, "rule") is { } ruleText)
        {
            if (RuleText.TrySplit(ruleText, out string action, out string resource))
            {
                rule = RuleText.Format(action, resource);
            }
            else
            {
                Error(DiagnosticCodes.MalformedRule, $"{where}: rule '{Quote(ruleText)}' is not ACTION_PATTERN on RESOURCE_PATTERN", ruleNode);
            }
        }

        string? condition = Optional(keys, "condition");
        string? approvalRule = Optional(keys, "approval_rule");
        string? breakGlassRole = Optional(keys, "break_glass_role");
        if (reason is { } why && condition is { Length: > 0 } && why is not (DecisionReason.ConditionFailed or DecisionReason.DelegationDenied))
        {
            Error(DiagnosticCodes.InvalidValue, $"{where}: 'condition' is named only by condition_failed (or delegation_denied for a link that got it), not by reason '{DecisionReasons.ToName(why)}'", keys["condition"]);
        }

        if (reason is { } rule10 && approvalRule is { Length: > 0 } && rule10 is not (DecisionReason.ApprovalRequired or DecisionReason.Allowed))
        {
            Error(DiagnosticCodes.InvalidValue, $"{where}: 'approval_rule' is named only by approval_required and allowed, not by reason '{DecisionReasons.ToName(rule10)}'", keys["approval_rule"]);
        }

        return problems.Count > before || allowed is null ? null
            : new Expectation(allowed.Value, reason, role, rule, condition, approvalRule, breakGlassRole);
    }

    /// <summary>A version 2 field of 'expect': a scalar; the quoted empty string '' expects the decision line not to have it.</summary>
    private string? Optional(Dictionary<string, YamlNode> keys, string key)
    {
        if (!keys.TryGetValue(key, out var node))
        {
            return null;
        }

        if (node is YamlScalar { IsPlain: false, Value.Length: 0 })
        {
            return string.Empty;
        }

        return Text(node, key);
    }

    /// <summary>The entries of a mapping by key; unknown, duplicate and non-scalar keys are errors.</summary>
    private Dictionary<string, YamlNode> Keys(YamlMapping mapping, string[] known, string what)
    {
        var keys = new Dictionary<string, YamlNode>(StringComparer.Ordinal);
        foreach (var (key, value) in mapping.Entries)
        {
            if (key is not YamlScalar { } scalar)
            {
                Error(DiagnosticCodes.WrongType, $"a key of {what} must be a scalar; found {key.Description}", key);
            }
            else if (!known.Contains(scalar.Value, StringComparer.Ordinal))
            {
                Error(DiagnosticCodes.UnknownKey, $"unknown key '{Quote(scalar.Value)}' in {what} (expected {string.Join(", ", known)})", key);
            }
            else if (!keys.TryAdd(scalar.Value, value))
            {
                Error(DiagnosticCodes.DuplicateKey, $"'{scalar.Value}' is given twice in {what}", key);
            }
        }

        return keys;
    }

    private string? RequiredText(Dictionary<string, YamlNode> keys, string key, YamlNode owner, string what)
    {
        if (!keys.TryGetValue(key, out var node))
        {
            Error(DiagnosticCodes.MissingKey, $"{what} has no '{key}'", owner);
            return null;
        }

        return Text(node, key);
    }

    /// <summary>A non-empty scalar.</summary>
    private string? Text(YamlNode node, string key)
    {
        if (node is not YamlScalar scalar)
        {
            Error(DiagnosticCodes.WrongType, $"'{key}' must be a scalar; found {node.Description}", node);
            return null;
        }

        if (scalar.Value.Length == 0)
        {
            Error(DiagnosticCodes.EmptyValue, $"'{key}' is empty", node);
            return null;
        }

        return scalar.Value;
    }

    private DateTimeOffset? Instant(YamlNode node, string key)
    {
        if (Text(node, key) is not { } text)
        {
            return null;
        }

        if (Rfc3339.TryParse(text, out var instant))
        {
            return instant;
        }

        Error(DiagnosticCodes.InvalidTimestamp, $"'{key}': '{Quote(text)}' is not an RFC 3339 date-time with Z or an offset (2026-07-01T00:00:00Z)", node);
        return null;
    }

    private static string Quote(string text) => DiagnosticText.Clip(text);

    private SourceLocation At(YamlNode node) => new(source, node.Line, node.Column);

    // As the policy loader: after 1,000 errors, one final limit_exceeded (a file of 100,000 bad cases prints 1,001 lines).
    private void Error(string code, string message, YamlNode? node)
    {
        if (problems.Count > MaxReported)
        {
            return;
        }

        var at = node is null ? new SourceLocation(source, 1, 1) : At(node);
        problems.Add(problems.Count < MaxReported
            ? PolicyDiagnostic.Error(code, message, at)
            : PolicyDiagnostic.Error(DiagnosticCodes.LimitExceeded, "more than 1000 errors; the rest are not reported", at));
    }

    private const int MaxReported = Tuning.Compile.MaxReportedDiagnostics;
}
