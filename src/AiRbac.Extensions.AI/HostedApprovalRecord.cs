using Microsoft.Extensions.AI;

namespace AiRbac.Extensions.AI;

/// <summary>
/// The approval requests of provider-hosted tools that one <see cref="AiRbacChatClient"/> saw the provider make: request
/// id → the tool, the subject it was for and whether the policy allowed it. The provider matches an approval to its
/// request by request id alone, so this record, not the tool call a client posts with its approval, says what an
/// approval would run. Bounded (the oldest request is forgotten first), dated by a <see cref="TimeProvider"/> (a
/// request older than the lifetime is forgotten) and safe to use from several threads.
/// </summary>
internal sealed class HostedApprovalRecord
{
    private readonly object gate = new();
    private readonly Dictionary<string, LinkedListNode<Entry>> byId = new(StringComparer.Ordinal);
    private readonly LinkedList<Entry> oldestFirst = new();
    private readonly int capacity;
    private readonly TimeSpan lifetime;
    private readonly TimeProvider time;

    internal HostedApprovalRecord(int capacity, TimeSpan lifetime, TimeProvider time)
    {
        this.capacity = Math.Max(1, capacity);
        this.lifetime = lifetime;
        this.time = time;
    }

    /// <summary>Records an approval request the provider made.</summary>
    /// <param name="requestId">The provider's request id.</param>
    /// <param name="call">The call the provider asks about.</param>
    /// <param name="subjectKey">The subject the request was made for (<see cref="SubjectKey"/>).</param>
    /// <param name="denial"><see langword="null"/> when the policy allowed the call, else the text of the denial.</param>
    internal void Add(string requestId, ToolCallContent? call, string subjectKey, string? denial)
    {
        var mcp = call as McpServerToolCallContent;
        var entry = new Entry(requestId, mcp?.ServerName, mcp?.Name, subjectKey, denial ?? (mcp is null ? ToolPolicy.CannotAuthorize(call?.GetType().Name ?? "unknown") : null), time.GetUtcNow());
        lock (gate)
        {
            Expire(entry.Seen);
            if (byId.Remove(requestId, out var known))
            {
                oldestFirst.Remove(known);
                var old = known.Value;
                if (old.Denial is not null)
                {
                    // A request once denied stays denied.
                    entry = entry with { Denial = old.Denial };
                }
                else if (!string.Equals(old.ServerName, entry.ServerName, StringComparison.Ordinal)
                    || !string.Equals(old.ToolName, entry.ToolName, StringComparison.Ordinal)
                    || !string.Equals(old.SubjectKey, entry.SubjectKey, StringComparison.Ordinal))
                {
                    // One request id, two different requests: neither can be approved.
                    entry = entry with { Denial = Rejection(requestId, "approval_request_conflict") };
                }
            }

            while (byId.Count >= capacity && oldestFirst.First is { } oldest)
            {
                byId.Remove(oldest.Value.RequestId);
                oldestFirst.RemoveFirst();
            }

            byId.Add(requestId, oldestFirst.AddLast(entry));
        }
    }

    /// <summary>The recorded request, or <see langword="null"/> when it is unknown, forgotten or expired.</summary>
    internal Entry? Find(string? requestId)
    {
        if (requestId is null)
        {
            return null;
        }

        lock (gate)
        {
            Expire(time.GetUtcNow());
            return byId.TryGetValue(requestId, out var node) ? node.Value : null;
        }
    }

    /// <summary>Who a request is for: the subject's id and kind, and those of every subject it acts on behalf of.</summary>
    internal static string SubjectKey(AiRbacChatContext? context)
    {
        var key = new System.Text.StringBuilder();
        for (var subject = context?.Subject; subject is not null; subject = subject.OnBehalfOf)
        {
            key.Append(subject.Kind is { } kind ? ((int)kind).ToString(System.Globalization.CultureInfo.InvariantCulture) : "?")
                .Append(':').Append(subject.Id.Length.ToString(System.Globalization.CultureInfo.InvariantCulture))
                .Append(':').Append(subject.Id).Append(';');
        }

        return key.ToString();
    }

    /// <summary>The reason given when a posted approval is not passed on for want of a matching recorded request.</summary>
    internal static string Rejection(string requestId, string reason)
        => $"Tool approval '{requestId}' was not passed on: access denied ({reason}).";

    // Requests are kept in the order they were seen, so the expired ones are at the front.
    private void Expire(DateTimeOffset now)
    {
        while (oldestFirst.First is { } oldest && now - oldest.Value.Seen > lifetime)
        {
            byId.Remove(oldest.Value.RequestId);
            oldestFirst.RemoveFirst();
        }
    }

    /// <summary>One recorded request.</summary>
    /// <param name="RequestId">The provider's request id.</param>
    /// <param name="ServerName">The MCP server, or <see langword="null"/> for a call of another kind.</param>
    /// <param name="ToolName">The MCP tool, or <see langword="null"/> for a call of another kind.</param>
    /// <param name="SubjectKey">The subject it was made for.</param>
    /// <param name="Denial"><see langword="null"/> when the policy allowed it, else the text of the denial.</param>
    /// <param name="Seen">When the provider made it.</param>
    internal sealed record Entry(string RequestId, string? ServerName, string? ToolName, string SubjectKey, string? Denial, DateTimeOffset Seen);
}
