using AiRbac.Extensions.AI;
using Microsoft.SemanticKernel;

namespace AiRbac.SemanticKernel;

/// <summary>Settings of an <see cref="AiRbacKernelFilter"/>. Read once, when the filter is created.</summary>
public sealed class AiRbacKernelOptions
{
    /// <summary>The action authorized for every kernel function. Default <c>tool:invoke</c>.</summary>
    public string ToolAction { get; set; } = "tool:invoke";

    /// <summary>
    /// The prefix of a function's resource: <c>tool:PLUGIN/FUNCTION</c>, or <c>tool:FUNCTION</c> for a function outside
    /// any plugin. Default <c>tool:</c>.
    /// </summary>
    public string ToolResourcePrefix { get; set; } = "tool:";

    /// <summary>
    /// Supplies the context of a kernel (who asks, the data's tier, tags and scope). The default reads
    /// <see cref="Kernel.Data"/>[<see cref="AiRbacChatContext.PropertyName"/>], which
    /// <see cref="AiRbacKernelExtensions.WithAiRbac"/> sets. A kernel without a context, or a provider that throws, is
    /// decided for the anonymous subject: every function is denied (<c>missing_identity</c>).
    /// </summary>
    public Func<Kernel, AiRbacChatContext?>? ContextProvider { get; set; }
}
