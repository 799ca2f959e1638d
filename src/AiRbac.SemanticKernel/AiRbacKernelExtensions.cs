using AiRbac.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.SemanticKernel;

namespace AiRbac.SemanticKernel;

/// <summary>Puts AiRbac on a Semantic Kernel <see cref="Kernel"/>: the filters, and a kernel per request for its subject.</summary>
public static class AiRbacKernelExtensions
{
    /// <summary>
    /// Registers an <see cref="AiRbacKernelFilter"/> (one singleton, as both <see cref="IFunctionInvocationFilter"/> and
    /// <see cref="IAutoFunctionInvocationFilter"/>) in the kernel's services, with the <see cref="PolicyAuthorizer"/> of
    /// those services (the singleton the AiRbac DI package registers). Call it before adding other filters:
    /// <see cref="WithAiRbac"/> moves it first in any case.
    /// </summary>
    /// <param name="builder">The kernel builder (<c>Kernel.CreateBuilder()</c> or <c>services.AddKernel()</c>).</param>
    /// <param name="configure">Changes the settings, or <see langword="null"/>.</param>
    /// <returns><paramref name="builder"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="builder"/> is <see langword="null"/>.</exception>
    public static IKernelBuilder AddAiRbac(this IKernelBuilder builder, Action<AiRbacKernelOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = new AiRbacKernelOptions();
        configure?.Invoke(options);
        builder.Services.AddSingleton(services => new AiRbacKernelFilter(
            services.GetService<PolicyAuthorizer>()
                ?? throw new InvalidOperationException("No PolicyAuthorizer is registered: register one (AddAiRbac) or use kernel.UseAiRbac(authorizer)."),
            options));
        builder.Services.AddSingleton<IFunctionInvocationFilter>(services => services.GetRequiredService<AiRbacKernelFilter>());
        builder.Services.AddSingleton<IAutoFunctionInvocationFilter>(services => services.GetRequiredService<AiRbacKernelFilter>());
        return builder;
    }

    /// <summary>
    /// Adds an <see cref="AiRbacKernelFilter"/> to <paramref name="kernel"/>'s filters, first (outside every other filter).
    /// </summary>
    /// <param name="kernel">The kernel to change.</param>
    /// <param name="authorizer">The authorizer that holds the current policy.</param>
    /// <param name="configure">Changes the settings, or <see langword="null"/>.</param>
    /// <returns><paramref name="kernel"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="kernel"/> or <paramref name="authorizer"/> is <see langword="null"/>.</exception>
    public static Kernel UseAiRbac(this Kernel kernel, PolicyAuthorizer authorizer, Action<AiRbacKernelOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        ArgumentNullException.ThrowIfNull(authorizer);
        var options = new AiRbacKernelOptions();
        configure?.Invoke(options);
        var filter = new AiRbacKernelFilter(authorizer, options);
        kernel.FunctionInvocationFilters.Insert(0, filter);
        kernel.AutoFunctionInvocationFilters.Insert(0, filter);
        return kernel;
    }

    /// <summary>
    /// A copy of <paramref name="kernel"/> for one request of <paramref name="context"/>'s subject (the kernel itself is not
    /// changed, so one kernel can serve many subjects at once): the context is stored in <see cref="Kernel.Data"/>, the
    /// plugins hold only the functions the subject may invoke (so <c>FunctionChoiceBehavior.Auto()</c> offers the model
    /// nothing else, and naming a removed function in <c>FunctionChoiceBehavior.Auto(functions)</c> fails), and AiRbac's
    /// filter runs first. Every call is still authorized by the filter when it runs.
    /// </summary>
    /// <param name="kernel">The kernel with an <see cref="AiRbacKernelFilter"/> (<see cref="AddAiRbac"/> or <see cref="UseAiRbac"/>).</param>
    /// <param name="context">Who asks (typically the agent acting for the user) and the data context.</param>
    /// <returns>The copy.</returns>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    /// <exception cref="InvalidOperationException">The kernel has no <see cref="AiRbacKernelFilter"/> in both filter lists:
    /// its calls would not be authorized.</exception>
    public static Kernel WithAiRbac(this Kernel kernel, AiRbacChatContext context)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        ArgumentNullException.ThrowIfNull(context);
        var filter = kernel.FunctionInvocationFilters.OfType<AiRbacKernelFilter>().FirstOrDefault();
        if (filter is null || !kernel.AutoFunctionInvocationFilters.OfType<AiRbacKernelFilter>().Any())
        {
            throw new InvalidOperationException(
                "The kernel has no AiRbacKernelFilter: add one (kernelBuilder.AddAiRbac() or kernel.UseAiRbac(authorizer)) so that every call is authorized.");
        }

        var copy = kernel.Clone();
        copy.Data[AiRbacChatContext.PropertyName] = context;
        MoveFirst(copy.FunctionInvocationFilters);
        MoveFirst(copy.AutoFunctionInvocationFilters);

        List<KernelPlugin> permitted = [];
        foreach (var plugin in kernel.Plugins)
        {
            var functions = plugin.Where(function => filter.Offers(copy, function)).ToList();
            if (functions.Count > 0)
            {
                permitted.Add(functions.Count == plugin.FunctionCount ? plugin : new PermittedPlugin(plugin, functions));
            }
        }

        copy.Plugins.Clear();
        copy.Plugins.AddRange(permitted);
        return copy;
    }

    // AiRbac's filters first (outermost): nothing else runs for a call the policy denies.
    private static void MoveFirst<TFilter>(IList<TFilter> filters)
    {
        var ours = filters.Where(f => f is AiRbacKernelFilter).ToList();
        foreach (var filter in ours)
        {
            filters.Remove(filter);
        }

        for (int i = ours.Count - 1; i >= 0; i--)
        {
            filters.Insert(0, ours[i]);
        }
    }

    /// <summary>A plugin narrowed to the functions a subject may invoke (the same function objects, in the same order).</summary>
    private sealed class PermittedPlugin(KernelPlugin plugin, List<KernelFunction> functions) : KernelPlugin(plugin.Name, plugin.Description)
    {
        public override int FunctionCount => functions.Count;

        public override bool TryGetFunction(string name, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out KernelFunction? function)
        {
            function = functions.Find(f => string.Equals(f.Name, name, StringComparison.OrdinalIgnoreCase));
            return function is not null;
        }

        public override IEnumerator<KernelFunction> GetEnumerator() => functions.GetEnumerator();
    }
}
