namespace AiRbac;

/// <summary>Scope paths (docs/policy-language.md, section 2): one or more non-empty segments joined by single <c>/</c>, compared ordinally.</summary>
internal static class Scope
{
    /// <summary>Whether a scope is well formed: non-empty segments joined by single <c>/</c>, no leading or trailing <c>/</c>.</summary>
    /// <param name="scope">The scope.</param>
    /// <returns>Whether it is well formed.</returns>
    public static bool IsValid(ReadOnlySpan<char> scope)
    {
        if (scope.IsEmpty || scope[0] == '/' || scope[^1] == '/')
        {
            return false;
        }

        return scope.IndexOf("//", StringComparison.Ordinal) < 0;
    }

    /// <summary>Whether a binding scope covers a resource scope: the same scope or an ancestor of it, segment-wise.</summary>
    /// <param name="bindingScope">The binding's scope.</param>
    /// <param name="resourceScope">The resource's scope.</param>
    /// <returns>Whether the binding applies at the resource's scope.</returns>
    public static bool Covers(ReadOnlySpan<char> bindingScope, ReadOnlySpan<char> resourceScope)
        => resourceScope.StartsWith(bindingScope, StringComparison.Ordinal)
            && (resourceScope.Length == bindingScope.Length || resourceScope[bindingScope.Length] == '/');
}
