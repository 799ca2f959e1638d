using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.AI;

namespace AiRbac.Extensions.AI;

/// <summary>
/// One tool call the policy asked for approvals of (docs/integrations.md, "Tool-call approvals"): what
/// <see cref="AiRbacChatContext.ApprovalProvider"/> receives, so that the host's approval store can return the approvals
/// it holds for exactly this call.
/// </summary>
public sealed class AiRbacToolCall
{
    internal AiRbacToolCall(string toolName, string? callId, IReadOnlyDictionary<string, object?> arguments, string fingerprint, string approvalRule)
    {
        ToolName = toolName;
        CallId = callId;
        Arguments = arguments;
        Fingerprint = fingerprint;
        ApprovalRule = approvalRule;
    }

    /// <summary>The tool's name as the model sees it (Semantic Kernel: <c>PLUGIN/FUNCTION</c>).</summary>
    public string ToolName { get; }

    /// <summary>The call's id (the model's, or the id of the approval request it answers), or <see langword="null"/>
    /// when the call has none (a function invoked directly).</summary>
    public string? CallId { get; }

    /// <summary>The arguments the tool would run with: not trusted (the model, or a posted history, wrote them).</summary>
    public IReadOnlyDictionary<string, object?> Arguments { get; }

    /// <summary>
    /// <c>sha256:</c> and 64 hexadecimal digits: a hash of the requester (its id and kind, and those of every subject it
    /// acts for), the tool's name and its arguments (names in ordinal order, values as compact JSON). Two calls with the
    /// same fingerprint are the same subject running the same tool with the same arguments; the approval request the host
    /// is shown carries it, so that an approval is stored for what was shown, and for whom. A call with a value that
    /// cannot be written as JSON gets a fingerprint that never repeats (it cannot be approved).
    /// </summary>
    public string Fingerprint { get; }

    /// <summary>The approval rule that requires approvals for the call (the first unsatisfied one, in file order).</summary>
    public string ApprovalRule { get; }
}

/// <summary>
/// The request context of one tool call (docs/integrations.md, "Tool-call arguments as context"): the host's context
/// (<see cref="AiRbacChatContext.RequestContext"/>) first, then each argument as the pair <c>arg.NAME</c>. The one
/// mapping, for every agent stack.
/// </summary>
internal static class ToolCallContext
{
    /// <summary>The prefix of an argument's key: no argument can name a key the host sets (<c>mfa</c>, <c>network</c>).</summary>
    internal const string ArgumentPrefix = "arg.";

    private const int MaxPairs = Tuning.Language.MaxContextAttributes;
    private const int MaxKeyLength = Tuning.Language.MaxContextKeyLength;
    private const int MaxStringLength = Tuning.Language.MaxContextValueLength;

    /// <summary>
    /// The context to decide a call with: <see langword="null"/> when neither the host nor the call gives anything (the
    /// version 1 path, unchanged), else the host's pairs, activations and approvals, the arguments' pairs and
    /// <paramref name="attested"/> approvals. Never throws for what the arguments hold.
    /// </summary>
    internal static RequestContext? For(AiRbacChatContext? context, IEnumerable<KeyValuePair<string, object?>>? arguments, IReadOnlyList<Approval>? attested = null)
    {
        var host = context?.RequestContext;
        bool anyArgument = arguments is not null && arguments.Any();
        if (!anyArgument && attested is not { Count: > 0 })
        {
            return host;
        }

        List<ContextAttribute> pairs = host is null ? [] : [.. host.Attributes];
        if (arguments is not null)
        {
            foreach (var (name, value) in arguments)
            {
                if (pairs.Count > MaxPairs)
                {
                    break; // already more than a request may carry: the engine answers invalid_request
                }

                AddArgument(pairs, name, value);
            }
        }

        IReadOnlyList<Approval> approvals = host?.Approvals ?? [];
        if (attested is { Count: > 0 })
        {
            approvals = [.. approvals, .. attested];
        }

        return new RequestContext
        {
            Attributes = pairs,
            Activations = host?.Activations ?? [],
            Approvals = approvals,
        };
    }

    /// <summary>
    /// The fingerprint of a call (<see cref="AiRbacToolCall.Fingerprint"/>): the requester and every subject it acts for
    /// (id and kind), the tool's name and the arguments. Never throws: a value that cannot be written as JSON (a NaN, a
    /// cycle, a getter that throws) makes a fingerprint no other computation gives, so no approval can match such a call.
    /// </summary>
    internal static string Fingerprint(AiRbacChatContext? context, string toolName, IEnumerable<KeyValuePair<string, object?>>? arguments)
    {
        var text = new StringBuilder();
        text.Append(HostedApprovalRecord.SubjectKey(context)).Append('\n');
        text.Append(toolName.Length).Append(':').Append(toolName).Append('\n');
        try
        {
            foreach (var (name, value) in (arguments ?? []).OrderBy(pair => pair.Key, StringComparer.Ordinal))
            {
                string json = JsonSerializer.Serialize(value, AIJsonUtilities.DefaultOptions);
                text.Append(name.Length).Append(':').Append(name).Append('=').Append(json.Length).Append(':').Append(json).Append('\n');
            }
        }
        catch (Exception)
        {
            text.Append('!').Append(Guid.NewGuid().ToString("N")); // unique: what cannot be written cannot be approved
        }

        return "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }

    /// <summary>Whether <c>arg.</c> + <paramref name="name"/> is a key a policy can declare (section 11's key rules).</summary>
    private static bool IsKeyName(string? name)
    {
        if (string.IsNullOrEmpty(name) || name.Length > MaxKeyLength - ArgumentPrefix.Length)
        {
            return false;
        }

        foreach (char c in name)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('_' or '.' or '-'))
            {
                return false;
            }
        }

        return true;
    }

    // An argument no policy can declare is left out (no condition can read it). A null is left out: the argument was not
    // given, and a condition on a missing key fails. A value that maps to no context type (an object, an array, a
    // fraction, a number past a 64-bit integer, a string over 4,096 characters) is passed twice, so that the engine
    // refuses the request (invalid_request: a declared key appears at most once) when the policy declares the key and
    // ignores it when not.
    private static void AddArgument(List<ContextAttribute> pairs, string name, object? value)
    {
        if (!IsKeyName(name))
        {
            return;
        }

        string key = ArgumentPrefix + name;
        ContextAttribute? mapped;
        try
        {
            mapped = Map(key, value);
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or FormatException)
        {
            mapped = null; // text that is not valid UTF-16, for example: never an exception out of the gate
        }

        switch (mapped)
        {
            case { } pair:
                pairs.Add(pair);
                break;
            case null when value is null || value is JsonElement { ValueKind: JsonValueKind.Null or JsonValueKind.Undefined }:
                break;
            default:
                pairs.Add(new ContextAttribute(key, false));
                pairs.Add(new ContextAttribute(key, false));
                break;
        }
    }

    private static ContextAttribute? Map(string key, object? value) => value switch
    {
        string text => text.Length <= MaxStringLength ? new ContextAttribute(key, text) : null,
        bool flag => new ContextAttribute(key, flag),
        long number => new ContextAttribute(key, number),
        int number => new ContextAttribute(key, number),
        short number => new ContextAttribute(key, number),
        sbyte number => new ContextAttribute(key, number),
        byte number => new ContextAttribute(key, number),
        ushort number => new ContextAttribute(key, number),
        uint number => new ContextAttribute(key, number),
        ulong number when number <= long.MaxValue => new ContextAttribute(key, (long)number),
        JsonElement element => MapJson(key, element),
        _ => null,
    };

    private static ContextAttribute? MapJson(string key, JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.String when element.GetString() is { } text && text.Length <= MaxStringLength => new ContextAttribute(key, text),
        JsonValueKind.True => new ContextAttribute(key, true),
        JsonValueKind.False => new ContextAttribute(key, false),
        JsonValueKind.Number when element.TryGetInt64(out long number) => new ContextAttribute(key, number),
        _ => null,
    };
}
