using AiRbac.Model;

namespace AiRbac.Diagnostics;

/// <summary>How serious a policy problem is.</summary>
public enum DiagnosticSeverity
{
    /// <summary>The policy is rejected.</summary>
    Error,

    /// <summary>A lint finding; the policy still loads.</summary>
    Warning,
}

/// <summary>One problem found while loading, validating or linting a policy.</summary>
/// <param name="Code">A stable code from <see cref="DiagnosticCodes"/>.</param>
/// <param name="Severity">Error or warning.</param>
/// <param name="Message">A human-readable message. Control and bidirectional formatting characters in it (from names in a hostile policy) are kept as <c>\uXXXX</c> escapes, so it is safe to print.</param>
/// <param name="Location">Where the problem was written.</param>
public sealed record PolicyDiagnostic(string Code, DiagnosticSeverity Severity, string Message, SourceLocation Location)
{
    /// <summary>A human-readable message, safe to print: control and bidirectional formatting characters are written as <c>\uXXXX</c>.</summary>
    public string Message { get; } = UnsafeText.Escape(Message);

    /// <summary>Whether the problem rejects the policy.</summary>
    public bool IsError => Severity == DiagnosticSeverity.Error;

    /// <summary>Formats the problem as <c>FILE:LINE:COL: error|warning CODE: message</c> (unsafe characters in the file name escaped, as in the message).</summary>
    /// <returns>The formatted problem.</returns>
    public override string ToString()
        => $"{UnsafeText.Escape(Location.Source)}:{Location.Line}:{Location.Column}: {(IsError ? "error" : "warning")} {Code}: {Message}";

    /// <summary>Creates an error.</summary>
    /// <param name="code">The code.</param>
    /// <param name="message">The message.</param>
    /// <param name="location">Where.</param>
    /// <returns>The diagnostic.</returns>
    public static PolicyDiagnostic Error(string code, string message, SourceLocation location)
        => new(code, DiagnosticSeverity.Error, message, location);

    /// <summary>Creates a warning.</summary>
    /// <param name="code">The code.</param>
    /// <param name="message">The message.</param>
    /// <param name="location">Where.</param>
    /// <returns>The diagnostic.</returns>
    public static PolicyDiagnostic Warning(string code, string message, SourceLocation location)
        => new(code, DiagnosticSeverity.Warning, message, location);
}

/// <summary>The stable diagnostic codes. They appear in CLI output and CI gates; never rename one.</summary>
public static class DiagnosticCodes
{
    /// <summary>The YAML is not well formed.</summary>
    public const string YamlSyntax = "yaml_syntax";

    /// <summary>A key that the policy language does not define (YAML merge keys included).</summary>
    public const string UnknownKey = "unknown_key";

    /// <summary>A required key is missing.</summary>
    public const string MissingKey = "missing_key";

    /// <summary>The same key twice in one mapping.</summary>
    public const string DuplicateKey = "duplicate_key";

    /// <summary>A value of the wrong shape (mapping, list or scalar expected).</summary>
    public const string WrongType = "wrong_type";

    /// <summary>A value that must not be empty is empty.</summary>
    public const string EmptyValue = "empty_value";

    /// <summary><c>version</c> is not the plain scalar <c>1</c> or <c>2</c>.</summary>
    public const string UnsupportedVersion = "unsupported_version";

    /// <summary>Two roles share a name or id.</summary>
    public const string DuplicateRole = "duplicate_role";

    /// <summary><c>inherits</c> or a constraint names a role that is not declared.</summary>
    public const string UndeclaredRole = "undeclared_role";

    /// <summary>Roles inherit from each other in a cycle.</summary>
    public const string InheritanceCycle = "inheritance_cycle";

    /// <summary>A tier that the policy does not declare.</summary>
    public const string UnknownTier = "unknown_tier";

    /// <summary>The same tier declared twice.</summary>
    public const string DuplicateTier = "duplicate_tier";

    /// <summary>A grant or deny that is not <c>ACTION on RESOURCE</c>.</summary>
    public const string MalformedRule = "malformed_rule";

    /// <summary>A pattern that breaks the rules of docs/policy-language.md, section 3.</summary>
    public const string InvalidPattern = "invalid_pattern";

    /// <summary>An unknown subject kind, or an empty <c>kinds</c> list.</summary>
    public const string InvalidKind = "invalid_kind";

    /// <summary>A timestamp that is not an RFC 3339 date-time with an offset.</summary>
    public const string InvalidTimestamp = "invalid_timestamp";

    /// <summary>A scope that is not non-empty segments joined by single <c>/</c>.</summary>
    public const string InvalidScope = "invalid_scope";

    /// <summary>A group named in bindings that is not declared.</summary>
    public const string UndeclaredGroup = "undeclared_group";

    /// <summary>A <c>mutually_exclusive</c> list that is too short, repeats a role, or whose roles are joined through inheritance.</summary>
    public const string InvalidExclusiveSet = "invalid_exclusive_set";

    /// <summary>A value that is out of range, such as a negative <c>min_holders</c> count.</summary>
    public const string InvalidValue = "invalid_value";

    /// <summary>A size, depth, length or count limit was exceeded.</summary>
    public const string LimitExceeded = "limit_exceeded";

    /// <summary>A role condition names a context key the <c>context</c> section does not declare (version 2).</summary>
    public const string UndeclaredContextKey = "undeclared_context_key";

    /// <summary>A role condition whose value does not fit its key's type, or a malformed <c>context</c> declaration (version 2).</summary>
    public const string InvalidCondition = "invalid_condition";

    /// <summary>Warning: a role grants <c>* on **</c>.</summary>
    public const string GrantsEverything = "grants_everything";

    /// <summary>Warning: a role has no grants and inherits nothing.</summary>
    public const string RoleWithoutGrants = "role_without_grants";

    /// <summary>Warning: an allow is fully covered by a deny of the same role.</summary>
    public const string AllowShadowedByDeny = "allow_shadowed_by_deny";

    /// <summary>Warning: a role grants on classified resources but has no <c>max_sensitivity</c>.</summary>
    public const string MissingMaxSensitivity = "missing_max_sensitivity";

    /// <summary>Warning: fewer subjects hold a role than <c>min_holders</c> demands.</summary>
    public const string MinHoldersNotMet = "min_holders_not_met";

    /// <summary>Warning: a bound subject holds two roles of a <c>mutually_exclusive</c> list.</summary>
    public const string BindingBreaksExclusion = "binding_breaks_exclusion";

    /// <summary>Warning: a binding names a role that is not declared.</summary>
    public const string BindingUndeclaredRole = "binding_undeclared_role";

    /// <summary>Warning (version 2): no subject in the policy's bindings can approve an approval rule.</summary>
    public const string ApprovalUnsatisfiable = "approval_unsatisfiable";

    /// <summary>Warning (version 2): fewer subjects in the policy's bindings can approve an approval rule than it needs.</summary>
    public const string ApproversBelowCount = "approvers_below_count";
}
