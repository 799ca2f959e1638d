using AiRbac.Extensions.AI;
using Microsoft.SemanticKernel;

namespace AiRbac.SemanticKernel;

/// <summary>
/// Authorizes every kernel function call (docs/integrations.md, "Semantic Kernel"): <c>tool:invoke</c> on
/// <c>tool:PLUGIN/FUNCTION</c> for the kernel's subject (see <see cref="AiRbacKernelOptions.ContextProvider"/>). As an
/// <see cref="IAutoFunctionInvocationFilter"/> it decides every call the model asks for; as an
/// <see cref="IFunctionInvocationFilter"/>, every other invocation (your code's <c>kernel.InvokeAsync</c>, a prompt
/// template's <c>{{plugin.function}}</c>, a function that calls another). A denied function does not run: its result is
/// the text <see cref="AiRbacChatClient.DeniedToolResult"/> (the reason only), which the model receives as the call's
/// result; a streaming invocation (<c>InvokeStreamingAsync</c>) of a denied function throws
/// <see cref="AiRbacAccessDeniedException"/> instead. Register it first, so that it runs outside every other filter.
/// </summary>
public sealed class AiRbacKernelFilter : IFunctionInvocationFilter, IAutoFunctionInvocationFilter
{
    // The call the auto-invocation filter allowed and is running now (per async flow), so that the function filter
    // it leads to does not decide the same call again.
    private static readonly AsyncLocal<(Kernel Kernel, KernelFunction Function)?> AllowedAutoCall = new();

    private readonly AiRbacToolGate gate;
    private readonly Func<Kernel, AiRbacChatContext?> contextProvider;
    private readonly string toolAction;
    private readonly string toolPrefix;

    /// <summary>Creates the filter.</summary>
    /// <param name="authorizer">The authorizer that holds the current policy.</param>
    /// <param name="options">Settings, or <see langword="null"/> for the defaults.</param>
    /// <exception cref="ArgumentNullException"><paramref name="authorizer"/> is <see langword="null"/>.</exception>
    public AiRbacKernelFilter(PolicyAuthorizer authorizer, AiRbacKernelOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(authorizer);
        options ??= new AiRbacKernelOptions();
        toolAction = options.ToolAction;
        toolPrefix = options.ToolResourcePrefix;
        gate = new AiRbacToolGate(authorizer, new AiRbacChatClientOptions { ToolAction = toolAction, ToolResourcePrefix = toolPrefix });
        contextProvider = options.ContextProvider ?? FromData;
    }

    /// <inheritdoc/>
    public async Task OnAutoFunctionInvocationAsync(AutoFunctionInvocationContext context, Func<AutoFunctionInvocationContext, Task> next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        var decision = Decide(context.Kernel, context.Function, context.Arguments, context.ToolCallId);
        if (!decision.Allowed)
        {
            context.Result = Refuse(context.Function, decision);
            return;
        }

        var previous = AllowedAutoCall.Value;
        AllowedAutoCall.Value = (context.Kernel, context.Function);
        try
        {
            await next(context).ConfigureAwait(false);
        }
        finally
        {
            AllowedAutoCall.Value = previous;
        }
    }

    /// <inheritdoc/>
    public async Task OnFunctionInvocationAsync(FunctionInvocationContext context, Func<FunctionInvocationContext, Task> next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        if (AllowedAutoCall.Value is { } allowed && ReferenceEquals(allowed.Kernel, context.Kernel) && ReferenceEquals(allowed.Function, context.Function))
        {
            // The call the auto-invocation filter just allowed: decided once. Anything it invokes in turn is decided.
            AllowedAutoCall.Value = null;
            await next(context).ConfigureAwait(false);
            return;
        }

        var decision = Decide(context.Kernel, context.Function, context.Arguments, callId: null);
        if (!decision.Allowed)
        {
            // A stream has no single value to carry the refusal (Semantic Kernel would fail to cast the text to the stream
            // the caller asked for): the denial is thrown instead, with its reason.
            if (context.IsStreaming)
            {
                throw new AiRbacAccessDeniedException(toolAction, toolPrefix + NameOf(context.Function), decision);
            }

            context.Result = Refuse(context.Function, decision);
            return;
        }

        await next(context).ConfigureAwait(false);
    }

    /// <summary>The resource name of a function (without the prefix): <c>PLUGIN/FUNCTION</c>, or <c>FUNCTION</c>.</summary>
    internal static string NameOf(KernelFunction function)
        => string.IsNullOrEmpty(function.PluginName) ? function.Name : function.PluginName + "/" + function.Name;

    /// <summary>
    /// Whether the kernel's subject may invoke <paramref name="function"/> with <paramref name="arguments"/> (as
    /// <c>arg.NAME</c> context pairs after the host's <see cref="AiRbacChatContext.RequestContext"/>; a call needing
    /// approvals is decided again with those the host's <see cref="AiRbacChatContext.ApprovalProvider"/> attests);
    /// anything that fails is a denial.
    /// </summary>
    internal Decision Decide(Kernel kernel, KernelFunction function, KernelArguments? arguments, string? callId)
        => gate.Authorize(ContextOf(kernel), NameOf(function), arguments, callId);

    /// <summary>Whether the kernel's subject is shown <paramref name="function"/> (<see cref="AiRbacToolGate.Offers"/>).</summary>
    internal bool Offers(Kernel kernel, KernelFunction function) => gate.Offers(ContextOf(kernel), NameOf(function));

    private AiRbacChatContext? ContextOf(Kernel kernel)
    {
        try
        {
            return contextProvider(kernel);
        }
        catch (Exception)
        {
            return null; // fail closed: the anonymous subject
        }
    }

    /// <summary>
    /// The one place a denied call is answered: the function does not run, and its result (what the model or the caller
    /// receives) gives the reason only; a call waiting for approvals names the approval rule (approval_required), and
    /// runs only once the host's approval provider attests enough approvals for it.
    /// </summary>
    private static FunctionResult Refuse(KernelFunction function, Decision decision)
        => new(function, AiRbacChatClient.DeniedToolResult(NameOf(function), decision));

    private static AiRbacChatContext? FromData(Kernel kernel)
        => kernel.Data.TryGetValue(AiRbacChatContext.PropertyName, out var value) ? value as AiRbacChatContext : null;
}
