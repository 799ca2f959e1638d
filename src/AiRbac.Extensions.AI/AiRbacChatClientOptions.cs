using Microsoft.Extensions.AI;

namespace AiRbac.Extensions.AI;

/// <summary>Settings of an <see cref="AiRbacChatClient"/>. Read once, when the client is created.</summary>
public sealed class AiRbacChatClientOptions
{
    /// <summary>
    /// Supplies the context of a request. The default reads <see cref="AiRbacChatContext.From(ChatOptions)"/>.
    /// A request without a context is decided for an empty subject, so it is denied (<c>missing_identity</c>).
    /// </summary>
    public Func<ChatOptions?, AiRbacChatContext?>? ContextProvider { get; set; }

    /// <summary>The action authorized before a request reaches the model. Default <c>model:query</c>.</summary>
    public string ModelAction { get; set; } = "model:query";

    /// <summary>The prefix of the model resource; the model id follows it. Default <c>model:</c>.</summary>
    public string ModelResourcePrefix { get; set; } = "model:";

    /// <summary>
    /// The model id used when neither <see cref="ChatOptions.ModelId"/> nor the inner client's
    /// <see cref="ChatClientMetadata.DefaultModelId"/> names one. Without any model id a request is refused.
    /// </summary>
    public string? DefaultModelId { get; set; }

    /// <summary>The action authorized for every tool offered to and called by the model. Default <c>tool:invoke</c>.</summary>
    public string ToolAction { get; set; } = "tool:invoke";

    /// <summary>The prefix of the tool resource; the tool name follows it. Default <c>tool:</c>.</summary>
    public string ToolResourcePrefix { get; set; } = "tool:";

    /// <summary>
    /// The prefix of the resource of a tool on a provider-hosted MCP server (<see cref="HostedMcpServerTool"/>); the
    /// server name, <c>/</c> and the tool name follow it: <c>mcp:github/delete_repo</c> by default. Authorized with
    /// <see cref="ToolAction"/>. A separate prefix, so that no function tool's name can collide with a remote tool's
    /// and <c>tool:*</c> does not grant every tool of every remote server. Default <c>mcp:</c>.
    /// </summary>
    public string McpToolResourcePrefix { get; set; } = "mcp:";

    /// <summary>
    /// How many times in a row the client sends the model the denials of a response whose every tool call was denied,
    /// before it returns the response as is. Default 3.
    /// </summary>
    public int MaximumDeniedRounds { get; set; } = 3;

    /// <summary>
    /// How many approval requests of provider-hosted tools (for example an MCP server's) each
    /// <see cref="AiRbacChatClient"/> remembers. The provider matches an approval to its request by request id alone,
    /// so a posted approval is passed on only for a request this client saw the provider make (for the same subject,
    /// still permitted, naming the same tool); when the record is full the oldest request is forgotten, and an
    /// approval of a forgotten request is rejected. Default 10,000; at least 1.
    /// </summary>
    public int MaximumRecordedApprovalRequests { get; set; } = 10_000;

    /// <summary>
    /// How long a recorded approval request of a provider-hosted tool can be approved; an approval posted later is
    /// rejected. Default one hour.
    /// </summary>
    public TimeSpan ApprovalRequestLifetime { get; set; } = TimeSpan.FromHours(1);

    /// <summary>The clock that dates recorded approval requests. Default <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;
}
