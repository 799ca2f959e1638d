namespace AiRbac.Model;

/// <summary>Where something was written: a source name (usually a file path), a 1-based line and a 1-based column.</summary>
/// <param name="Source">The source name, for example a file path; empty when unknown.</param>
/// <param name="Line">The 1-based line, or 0 when unknown.</param>
/// <param name="Column">The 1-based column, or 0 when unknown.</param>
public readonly record struct SourceLocation(string Source, int Line, int Column)
{
    /// <summary>A location that names no place.</summary>
    public static SourceLocation None => new(string.Empty, 0, 0);

    /// <summary>Formats the location as <c>SOURCE:LINE:COL</c>.</summary>
    /// <returns>The formatted location.</returns>
    public override string ToString() => $"{Source}:{Line}:{Column}";
}

/// <summary>A string value from a policy source together with where it was written.</summary>
/// <param name="Value">The value, exactly as written (every policy scalar is a string).</param>
/// <param name="Location">Where the value was written.</param>
public readonly record struct LocatedString(string Value, SourceLocation Location)
{
    /// <summary>Wraps a value written in code, with no source location.</summary>
    /// <param name="value">The value.</param>
    /// <returns>The value with <see cref="SourceLocation.None"/>.</returns>
    public static LocatedString FromCode(string value) => new(value, SourceLocation.None);

    /// <summary>Returns the value.</summary>
    /// <returns>The value.</returns>
    public override string ToString() => Value;
}
