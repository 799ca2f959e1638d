using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;

namespace AiRbac.Extensions.AI;

/// <summary>
/// Puts a function call the policy answered <c>approval_required</c> onto Microsoft.Extensions.AI's tool-approval flow
/// (docs/integrations.md, "Tool-call approvals"). The authorizing invoker does not run the call, answers it with
/// <see cref="AiRbacChatClient.DeniedToolResult"/>, ends the invocation loop and notes the call here;
/// <see cref="AiRbacChatClient"/>, outside the <see cref="FunctionInvokingChatClient"/>, then replaces, in the response, the call and that result with a <see cref="ToolApprovalRequestContent"/> for
/// the call, which the host answers. Only calls noted by the invoker, with the very result object it returned, are
/// replaced: nothing a model or a posted history writes can make an approval request (or suppress one).
/// </summary>
internal static class ToolApprovals
{
    /// <summary>The approval request's additional property that names the approval rule.</summary>
    internal const string RuleProperty = "airbac.approval_rule";

    /// <summary>The approval request's additional property that holds the call's fingerprint (<see cref="AiRbacToolCall.Fingerprint"/>).</summary>
    internal const string FingerprintProperty = "airbac.fingerprint";

    /// <summary>The prefix of an approval request's id; the call id follows it.</summary>
    internal const string RequestIdPrefix = "airbac_";

    private static readonly ConditionalWeakTable<FunctionCallContent, Pending> Noted = [];

    /// <summary>Notes a call the invoker answered with <paramref name="result"/> because it needs approvals.</summary>
    internal static void Note(AiRbacChatContext? context, FunctionCallContent call, string rule, string result)
        => Noted.AddOrUpdate(call, new Pending(rule, ToolCallContext.Fingerprint(context, call.Name, call.Arguments), result));

    /// <summary>Replaces, in <paramref name="messages"/> (a response), each noted call and its result by an approval request.</summary>
    internal static void Surface(IList<ChatMessage> messages)
    {
        Dictionary<string, (FunctionCallContent Call, Pending Pending)>? pending = null;
        foreach (var message in messages)
        {
            foreach (var content in message.Contents)
            {
                if (content is FunctionCallContent call && Noted.TryGetValue(call, out var noted))
                {
                    (pending ??= new(StringComparer.Ordinal))[call.CallId] = (call, noted);
                }
            }
        }

        if (pending is null)
        {
            return;
        }

        HashSet<string> answered = new(StringComparer.Ordinal);
        foreach (var message in messages)
        {
            foreach (var content in message.Contents)
            {
                if (content is FunctionResultContent result && pending.TryGetValue(result.CallId, out var entry) && ReferenceEquals(result.Result, entry.Pending.Result))
                {
                    answered.Add(result.CallId);
                }
            }
        }

        for (int m = messages.Count - 1; m >= 0; m--)
        {
            var message = messages[m];
            List<AIContent> kept = new(message.Contents.Count);
            bool changed = false;
            foreach (var content in message.Contents)
            {
                if (content is FunctionCallContent call && answered.Contains(call.CallId) && pending[call.CallId].Call == call)
                {
                    kept.Add(Request(call, pending[call.CallId].Pending));
                    Noted.Remove(call);

                    // The invoker marks a call it handled as informational; this one did not run, and a host that answers
                    // the request it came from again (the same object, in process) must be able to.
                    call.InformationalOnly = false;
                    changed = true;
                }
                else if (content is FunctionResultContent result && answered.Contains(result.CallId) && ReferenceEquals(result.Result, pending[result.CallId].Pending.Result))
                {
                    changed = true; // the tool did not run: the host's approval decides whether it will
                }
                else
                {
                    kept.Add(content);
                }
            }

            if (!changed)
            {
                continue;
            }

            if (kept.Count == 0)
            {
                messages.RemoveAt(m);
            }
            else
            {
                message.Contents = kept;
            }
        }
    }

    /// <summary>
    /// For a stream: replaces in <paramref name="update"/> each result of a noted call by its approval request, and
    /// marks the call (already streamed) informational, so that the history holds the request and no call to run.
    /// </summary>
    /// <param name="update">The update, changed in place.</param>
    /// <param name="calls">The function calls streamed so far (by call id); this update's are added.</param>
    internal static void Surface(ChatResponseUpdate update, Dictionary<string, FunctionCallContent> calls)
    {
        List<AIContent>? contents = null;
        for (int i = 0; i < update.Contents.Count; i++)
        {
            var content = update.Contents[i];
            if (content is FunctionCallContent streamed)
            {
                calls[streamed.CallId] = streamed;
            }

            if (content is FunctionResultContent result && calls.TryGetValue(result.CallId, out var call)
                && Noted.TryGetValue(call, out var pending) && ReferenceEquals(result.Result, pending.Result))
            {
                contents ??= [.. update.Contents.Take(i)];
                call.InformationalOnly = true;
                contents.Add(Request(call, pending));
                Noted.Remove(call);
            }
            else
            {
                contents?.Add(content);
            }
        }

        if (contents is not null)
        {
            update.Contents = contents;
            if (update.Role == ChatRole.Tool)
            {
                update.Role = ChatRole.Assistant;
            }
        }
    }

    private static ToolApprovalRequestContent Request(FunctionCallContent call, Pending pending)
        => new(RequestIdPrefix + call.CallId, new FunctionCallContent(call.CallId, call.Name, call.Arguments))
        {
            AdditionalProperties = new()
            {
                [RuleProperty] = pending.Rule,
                [FingerprintProperty] = pending.Fingerprint,
            },
        };

    private sealed record Pending(string Rule, string Fingerprint, string Result);
}
