using System.Globalization;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Routing;

namespace AiRbac.AspNetCore;

/// <summary>
/// An authorization requirement: the user may perform <see cref="Action"/> on the resource that
/// <see cref="ResourceTemplate"/> names once its <c>{name}</c> placeholders are filled from the route values (for
/// example <c>model:{modelId}</c>). Handled by <see cref="AiRbacAuthorizationHandler"/>. The template is parsed once.
/// </summary>
public sealed class AiRbacRequirement : IAuthorizationRequirement
{
    private readonly Segment[] segments;

    /// <summary>Creates a requirement.</summary>
    /// <param name="action">The action, for example <c>model:query</c>.</param>
    /// <param name="resourceTemplate">The resource with optional <c>{routeValue}</c> placeholders, for example <c>model:{modelId}</c>.</param>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">An argument is empty, or a placeholder is empty or not closed.</exception>
    public AiRbacRequirement(string action, string resourceTemplate)
    {
        ArgumentException.ThrowIfNullOrEmpty(action);
        ArgumentException.ThrowIfNullOrEmpty(resourceTemplate);
        Action = action;
        ResourceTemplate = resourceTemplate;
        segments = Parse(resourceTemplate);
    }

    /// <summary>The action.</summary>
    public string Action { get; }

    /// <summary>The resource template.</summary>
    public string ResourceTemplate { get; }

    /// <summary>Fills the template's placeholders.</summary>
    /// <param name="values">Looks up a placeholder's value; <see langword="null"/> or empty means missing.</param>
    /// <param name="resource">The resource, when every placeholder has a value.</param>
    /// <returns>Whether every placeholder has a value.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="values"/> is <see langword="null"/>.</exception>
    public bool TryFormatResource(Func<string, string?> values, out string resource)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (segments.Length == 1 && !segments[0].IsPlaceholder)
        {
            resource = segments[0].Text;
            return true;
        }

        var builder = new System.Text.StringBuilder();
        foreach (var segment in segments)
        {
            if (!segment.IsPlaceholder)
            {
                builder.Append(segment.Text);
                continue;
            }

            string? value = values(segment.Text);
            if (string.IsNullOrEmpty(value))
            {
                resource = string.Empty;
                return false;
            }

            builder.Append(value);
        }

        resource = builder.ToString();
        return true;
    }

    // As TryFormatResource(Func), with the values read from route values: no delegate or closure per request, and a
    // template of up to three segments (for example model:{modelId} or model:{modelId}/chat) formatted by one concat.
    internal bool TryFormatResource(RouteValueDictionary? values, out string resource)
    {
        var parts = segments;
        if (parts.Length == 1 && !parts[0].IsPlaceholder)
        {
            resource = parts[0].Text;
            return true;
        }

        if (parts.Length <= 3)
        {
            string? a = Part(parts, 0, values), b = Part(parts, 1, values), c = Part(parts, 2, values);
            if (a is null || b is null || c is null)
            {
                resource = string.Empty;
                return false;
            }

            resource = string.Concat(a, b, c);
            return true;
        }

        var builder = new System.Text.StringBuilder();
        for (int i = 0; i < parts.Length; i++)
        {
            string? part = Part(parts, i, values);
            if (part is null)
            {
                resource = string.Empty;
                return false;
            }

            builder.Append(part);
        }

        resource = builder.ToString();
        return true;

        // A literal's text, a placeholder's non-empty value, "" past the end, null for a missing value.
        static string? Part(Segment[] parts, int i, RouteValueDictionary? values)
        {
            if (i >= parts.Length)
            {
                return string.Empty;
            }

            if (!parts[i].IsPlaceholder)
            {
                return parts[i].Text;
            }

            string? value = RouteValue(values, parts[i].Text);
            return string.IsNullOrEmpty(value) ? null : value;
        }
    }

    // A route value as text, or null when absent.
    internal static string? RouteValue(RouteValueDictionary? values, string key)
        => values is not null && values.TryGetValue(key, out var value) ? Convert.ToString(value, CultureInfo.InvariantCulture) : null;

    /// <inheritdoc/>
    public override string ToString() => $"AiRbac: {Action} on {ResourceTemplate}";

    private static Segment[] Parse(string template)
    {
        var result = new List<Segment>();
        int start = 0;
        while (start < template.Length)
        {
            int open = template.IndexOf('{', start);
            if (open < 0)
            {
                result.Add(new Segment(template[start..], false));
                break;
            }

            if (open > start)
            {
                result.Add(new Segment(template[start..open], false));
            }

            int close = template.IndexOf('}', open + 1);
            if (close < 0 || close == open + 1)
            {
                throw new ArgumentException($"The resource template '{template}' has an empty or unclosed placeholder at {open}.", nameof(template));
            }

            result.Add(new Segment(template[(open + 1)..close], true));
            start = close + 1;
        }

        return [.. result];
    }

    private readonly record struct Segment(string Text, bool IsPlaceholder);
}
