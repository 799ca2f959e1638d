using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using AiRbac.Diagnostics;

namespace AiRbac.Requests;

/// <summary>Reads requests and writes decisions in the JSON Lines formats of docs/request-lines.md.</summary>
internal static class RequestJson
{
    // The on_behalf_of chain nests one object per link; this bounds it well below the JSON depth limit.
    private const int MaxDepth = Tuning.Requests.MaxJsonDepth;

    private static readonly HashSet<string> RequestFields = ["subject", "kind", "roles", "action", "resource", "sensitivity", "tags", "scope", "owner", "on_behalf_of", "context", "break_glass", "approvals"];
    private static readonly HashSet<string> SubjectFields = ["subject", "kind", "roles", "on_behalf_of", "break_glass"];
    private static readonly HashSet<string> ActivationFields = ["role", "justification", "start"];
    private static readonly HashSet<string> ApprovalFields = ["approver", "rule", "at"];
    private const string LoneSurrogate = "a string holds an escape that is not valid UTF-16 (a lone surrogate)";

    private static readonly HashSet<string> BindingFields = ["role", "scope", "expires"];

    /// <summary>Parses one request line.</summary>
    /// <param name="line">The JSON object.</param>
    /// <returns>The request.</returns>
    /// <exception cref="RequestFormatException">The line is not a valid request; the message says why.</exception>
    public static AuthorizationRequest ParseRequest(string line)
    {
        ArgumentNullException.ThrowIfNull(line);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(line, new JsonDocumentOptions { MaxDepth = MaxDepth * 3, AllowDuplicateProperties = false });
        }
        catch (JsonException e)
        {
            throw new RequestFormatException($"not valid JSON: {e.Message}", e);
        }
        catch (InvalidOperationException e)
        {
            // The duplicate-property check decodes property names: a lone surrogate escape in one fails there.
            throw new RequestFormatException(LoneSurrogate, e);
        }

        using (document)
        {
            try
            {
                return ReadRequest(document.RootElement);
            }
            catch (InvalidOperationException e)
            {
                // System.Text.Json refuses to decode a string holding a lone surrogate escape ("\ud800"): no text
                // of ours can carry it faithfully, so the line is refused, never repaired into U+FFFD.
                throw new RequestFormatException(LoneSurrogate, e);
            }
        }
    }

    private static AuthorizationRequest ReadRequest(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new RequestFormatException("a request must be a JSON object");
        }

        CheckFields(root, RequestFields, "request");
        string action = RequiredString(root, "action");
        string resource = RequiredString(root, "resource");
        var activations = new List<BreakGlassActivation>();
        var subject = ReadSubject(root, 0, activations);
        var tags = root.TryGetProperty("tags", out var t) ? StringArray(t, "tags") : [];
        var pairs = root.TryGetProperty("context", out var c) ? ReadContext(c) : null;
        var approvals = root.TryGetProperty("approvals", out var a) ? ReadApprovals(a) : null;
        var context = pairs is null && activations.Count == 0 && approvals is null
            ? null : new RequestContext { Attributes = pairs ?? [], Activations = activations, Approvals = approvals ?? [] };
        return new AuthorizationRequest(subject, action, new ResourceRequest(resource)
        {
            Scope = OptionalString(root, "scope"),
            Sensitivity = OptionalString(root, "sensitivity"),
            Tags = tags,
            Owner = OptionalString(root, "owner"),
        }, context);
    }

    /// <summary>
    /// The request context (docs/policy-language.md, section 11): an object whose members are typed by their JSON values,
    /// <c>true</c>/<c>false</c> a bool, a string a string, a whole number in the 64-bit range an integer.
    /// </summary>
    private static List<ContextAttribute> ReadContext(JsonElement element)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw new RequestFormatException("'context' must be an object of key/value pairs");
        }

        var pairs = new List<ContextAttribute>();
        foreach (var property in element.EnumerateObject())
        {
            string key = property.Name;
            int bad = UnsafeText.IndexOfUnsafe(key);
            if (bad >= 0)
            {
                throw new RequestFormatException($"a context key holds a control or bidirectional formatting character ({UnsafeText.Describe(key[bad])})");
            }

            var value = property.Value;
            pairs.Add(value.ValueKind switch
            {
                JsonValueKind.True => new ContextAttribute(key, true),
                JsonValueKind.False => new ContextAttribute(key, false),
                JsonValueKind.String => new ContextAttribute(key, Text(value, "context." + key)),
                JsonValueKind.Number when value.TryGetInt64(out long number) => new ContextAttribute(key, number),
                _ => throw new RequestFormatException($"context '{key}' must be true, false, a string or a whole number (64-bit)"),
            });
        }

        return pairs;
    }

    /// <summary>The request's approvals (docs/policy-language.md, section 13): an array of <c>{approver, rule, at}</c>.</summary>
    private static List<Approval> ReadApprovals(JsonElement element)
    {
        if (element.ValueKind != JsonValueKind.Array)
        {
            throw new RequestFormatException("'approvals' must be an array of {approver, rule, at}");
        }

        var approvals = new List<Approval>();
        foreach (var item in element.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Object)
            {
                throw new RequestFormatException("each of 'approvals' must be an object {approver, rule, at}");
            }

            CheckFields(item, ApprovalFields, "approval");
            string approver = RequiredString(item, "approver");
            string rule = RequiredString(item, "rule");
            string atText = RequiredString(item, "at");
            if (!Rfc3339.TryParse(atText, out var at))
            {
                throw new RequestFormatException($"at '{atText}' is not an RFC 3339 date-time with Z or an offset");
            }

            approvals.Add(new Approval(approver, rule, at));
        }

        return approvals;
    }

    /// <summary>
    /// A subject's break-glass activations (docs/policy-language.md, section 12): an array of <c>{role, justification, start}</c>,
    /// each naming that subject.
    /// </summary>
    private static void ReadActivations(JsonElement element, string subject, List<BreakGlassActivation> activations)
    {
        if (element.ValueKind != JsonValueKind.Array)
        {
            throw new RequestFormatException("'break_glass' must be an array of {role, justification, start}");
        }

        foreach (var item in element.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Object)
            {
                throw new RequestFormatException("each of 'break_glass' must be an object {role, justification, start}");
            }

            CheckFields(item, ActivationFields, "break_glass activation");
            string role = RequiredString(item, "role");
            string justification = RequiredString(item, "justification");
            string startText = RequiredString(item, "start");
            if (!Rfc3339.TryParse(startText, out var start))
            {
                throw new RequestFormatException($"start '{startText}' is not an RFC 3339 date-time with Z or an offset");
            }

            activations.Add(new BreakGlassActivation(subject, role, justification, start));
        }
    }

    private static Subject ReadSubject(JsonElement element, int depth, List<BreakGlassActivation> activations)
    {
        if (depth > MaxDepth)
        {
            throw new RequestFormatException($"the on_behalf_of chain is deeper than {MaxDepth}");
        }

        string id = OptionalString(element, "subject") ?? string.Empty;
        SubjectKind? kind = null;
        if (OptionalString(element, "kind") is { } kindName)
        {
            kind = SubjectKinds.TryParse(kindName, out var parsed)
                ? parsed
                : throw new RequestFormatException($"unknown kind '{kindName}' (expected user, service or agent)");
        }
        List<RoleBinding>? roles = null;
        if (element.TryGetProperty("roles", out var r))
        {
            if (r.ValueKind != JsonValueKind.Array)
            {
                throw new RequestFormatException("'roles' must be an array");
            }

            roles = [.. r.EnumerateArray().Select(ReadBinding)];
        }

        Subject? onBehalfOf = null;
        if (element.TryGetProperty("on_behalf_of", out var o))
        {
            if (o.ValueKind != JsonValueKind.Object)
            {
                throw new RequestFormatException("'on_behalf_of' must be an object");
            }

            CheckFields(o, SubjectFields, "on_behalf_of");
            onBehalfOf = ReadSubject(o, depth + 1, activations);
        }

        if (element.TryGetProperty("break_glass", out var b))
        {
            ReadActivations(b, id, activations);
        }

        return new Subject(id, kind, roles, onBehalfOf);
    }

    private static RoleBinding ReadBinding(JsonElement element)
    {
        if (element.ValueKind == JsonValueKind.String)
        {
            return new RoleBinding(Text(element, "roles"));
        }

        if (element.ValueKind != JsonValueKind.Object)
        {
            throw new RequestFormatException("each of 'roles' must be a role name or an object {role, scope, expires}");
        }

        CheckFields(element, BindingFields, "role binding");
        string role = RequiredString(element, "role");
        string? expiresText = OptionalString(element, "expires");
        DateTimeOffset? expires = null;
        if (expiresText is not null)
        {
            if (!Rfc3339.TryParse(expiresText, out var value))
            {
                throw new RequestFormatException($"expires '{expiresText}' is not an RFC 3339 date-time with Z or an offset");
            }

            expires = value;
        }

        return new RoleBinding(role, OptionalString(element, "scope"), expires);
    }

    private static void CheckFields(JsonElement element, HashSet<string> allowed, string what)
    {
        foreach (var property in element.EnumerateObject())
        {
            // Unknown fields are refused: a misspelt 'sensitivty' must not silently lower a resource's tier.
            if (!allowed.Contains(property.Name))
            {
                throw new RequestFormatException($"unknown field '{property.Name}' in {what}");
            }
        }
    }

    private static string RequiredString(JsonElement element, string name)
        => OptionalString(element, name) ?? throw new RequestFormatException($"missing '{name}'");

    private static string? OptionalString(JsonElement element, string name)
    {
        if (!element.TryGetProperty(name, out var value))
        {
            return null;
        }

        return value.ValueKind == JsonValueKind.String ? Text(value, name) : throw new RequestFormatException($"'{name}' must be a string");
    }

    // A JSON string as text. Control and bidirectional formatting characters are refused (choice 24): no name the
    // policy can hold has them, and echoed raw they would rewrite what an operator's terminal shows.
    private static string Text(JsonElement value, string name)
    {
        string text = value.GetString()!;
        int bad = UnsafeText.IndexOfUnsafe(text);
        return bad < 0 ? text : throw new RequestFormatException($"'{name}' holds a control or bidirectional formatting character ({UnsafeText.Describe(text[bad])})");
    }

    private static string[] StringArray(JsonElement element, string name)
    {
        if (element.ValueKind != JsonValueKind.Array || element.EnumerateArray().Any(e => e.ValueKind != JsonValueKind.String))
        {
            throw new RequestFormatException($"'{name}' must be an array of strings");
        }

        return [.. element.EnumerateArray().Select(e => Text(e, name))];
    }

    /// <summary>Formats a decision as one JSON line: <c>allowed</c>, <c>reason</c>, and <c>role</c>/<c>rule</c> when there are any.</summary>
    /// <param name="decision">The decision.</param>
    /// <returns>The JSON object, without a newline.</returns>
    public static string FormatDecision(Decision decision)
    {
        var buffer = new StringBuilder(128);
        WriteDecision(decision, buffer);
        return buffer.ToString();
    }

    /// <summary>Appends a decision as one JSON object (see <see cref="FormatDecision"/>).</summary>
    /// <param name="decision">The decision.</param>
    /// <param name="buffer">Where to append.</param>
    public static void WriteDecision(Decision decision, StringBuilder buffer)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        buffer.Append("{\"allowed\":").Append(decision.Allowed ? "true" : "false");
        buffer.Append(",\"reason\":\"").Append(decision.ReasonName).Append('"');
        if (decision.Role is { } role)
        {
            buffer.Append(",\"role\":\"").Append(Escape(role)).Append('"');
        }

        if (decision.Rule is { } rule)
        {
            buffer.Append(",\"rule\":\"").Append(Escape(rule)).Append('"');
        }

        if (decision.Condition is { } condition)
        {
            buffer.Append(",\"condition\":\"").Append(Escape(condition)).Append('"');
        }

        if (decision.BreakGlassRole is { } breakGlass)
        {
            buffer.Append(",\"break_glass_role\":\"").Append(Escape(breakGlass)).Append('"');
        }

        if (decision.ApprovalRule is { } approvalRule)
        {
            buffer.Append(",\"approval_rule\":\"").Append(Escape(approvalRule)).Append('"');
        }

        buffer.Append('}');
    }

    // Relaxed escaping keeps patterns such as 'tool:report_*' readable; the output is JSON, never HTML.
    private static string Escape(string text) => JsonEncodedText.Encode(text, JavaScriptEncoder.UnsafeRelaxedJsonEscaping).ToString();
}
