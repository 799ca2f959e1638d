using Microsoft.Extensions.AI;

namespace AiRbac.Extensions.AI;

/// <summary>
/// Who is asking and what the request's data carries, for one chat request: the subject (typically an agent acting on
/// behalf of the signed-in user) and the sensitivity tier, tags and scope of the context sent to the model (for
/// example RAG passages tagged <c>confidential</c> or <c>phi</c>). Attach it with
/// <see cref="AiRbacChatOptionsExtensions.WithAiRbac(ChatOptions, AiRbacChatContext)"/>.
/// </summary>
public sealed class AiRbacChatContext
{
    /// <summary>The key under which the context is stored in <see cref="ChatOptions.AdditionalProperties"/>.</summary>
    public const string PropertyName = "airbac.context";

    /// <summary>Creates a context for a subject.</summary>
    /// <param name="subject">Who asks; build it once per principal and reuse it.</param>
    /// <exception cref="ArgumentNullException"><paramref name="subject"/> is <see langword="null"/>.</exception>
    public AiRbacChatContext(Subject subject)
    {
        ArgumentNullException.ThrowIfNull(subject);
        Subject = subject;
    }

    /// <summary>Who asks.</summary>
    public Subject Subject { get; }

    /// <summary>The highest sensitivity tier of the data in the request (for example of retrieved passages), or <see langword="null"/>.</summary>
    public string? Sensitivity { get; init; }

    /// <summary>The tags of the data in the request (for example <c>phi</c>); empty for none.</summary>
    public IReadOnlyList<string> Tags { get; init; } = [];

    /// <summary>The scope the request runs in (for example <c>acme/health</c>), or <see langword="null"/>.</summary>
    public string? Scope { get; init; }

    /// <summary>Reads the context attached to chat options.</summary>
    /// <param name="options">The options, or <see langword="null"/>.</param>
    /// <returns>The context, or <see langword="null"/> when none is attached.</returns>
    public static AiRbacChatContext? From(ChatOptions? options)
        => options?.AdditionalProperties is { } properties && properties.TryGetValue(PropertyName, out var value)
            ? value as AiRbacChatContext
            : null;
}

/// <summary>Attaches an <see cref="AiRbacChatContext"/> to <see cref="ChatOptions"/>.</summary>
public static class AiRbacChatOptionsExtensions
{
    /// <summary>Stores the context in <see cref="ChatOptions.AdditionalProperties"/> (replacing any earlier one).</summary>
    /// <param name="options">The options to change.</param>
    /// <param name="context">The context.</param>
    /// <returns><paramref name="options"/>.</returns>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    public static ChatOptions WithAiRbac(this ChatOptions options, AiRbacChatContext context)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(context);
        (options.AdditionalProperties ??= [])[AiRbacChatContext.PropertyName] = context;
        return options;
    }

    /// <summary>Stores a context for <paramref name="subject"/> in <see cref="ChatOptions.AdditionalProperties"/>.</summary>
    /// <param name="options">The options to change.</param>
    /// <param name="subject">Who asks.</param>
    /// <param name="sensitivity">The sensitivity tier of the data in the request, or <see langword="null"/>.</param>
    /// <param name="tags">The tags of the data in the request.</param>
    /// <returns><paramref name="options"/>.</returns>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    public static ChatOptions WithAiRbac(this ChatOptions options, Subject subject, string? sensitivity = null, params string[] tags)
        => options.WithAiRbac(new AiRbacChatContext(subject) { Sensitivity = sensitivity, Tags = tags ?? [] });
}
