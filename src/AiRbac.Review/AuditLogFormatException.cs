namespace AiRbac.Review;

/// <summary>An audit log line that is not a valid decision record; <see cref="LineNumber"/> says which.</summary>
public sealed class AuditLogFormatException : Exception
{
    /// <summary>Creates the exception.</summary>
    public AuditLogFormatException()
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">Why the line is bad.</param>
    public AuditLogFormatException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">Why the line is bad.</param>
    /// <param name="innerException">The underlying error.</param>
    public AuditLogFormatException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception for a line.</summary>
    /// <param name="lineNumber">The 1-based line number.</param>
    /// <param name="message">Why the line is bad.</param>
    public AuditLogFormatException(long lineNumber, string message)
        : base($"line {lineNumber}: {message}")
    {
        LineNumber = lineNumber;
        Reason = message;
    }

    /// <summary>The 1-based number of the bad line (0 when not set).</summary>
    public long LineNumber { get; }

    /// <summary>Why the line is bad, without the line number.</summary>
    public string Reason { get; } = string.Empty;
}
