using AiRbac.Diagnostics;

namespace AiRbac;

/// <summary>How a load or reload of the policy ended.</summary>
public enum PolicyReloadStatus
{
    /// <summary>A new policy was compiled and now answers.</summary>
    Loaded,

    /// <summary>The source holds the same bytes as the policy that answers (same content hash); nothing was swapped.</summary>
    Unchanged,

    /// <summary>The policy was rejected or could not be read; the last good policy keeps answering.</summary>
    Failed,
}

/// <summary>The outcome of a load or reload: the status, the version that answers afterwards, and every diagnostic.</summary>
public sealed class PolicyReloadResult : EventArgs
{
    internal PolicyReloadResult(PolicyReloadStatus status, string sourceName, PolicyVersion version, IReadOnlyList<PolicyDiagnostic> diagnostics, Exception? exception)
    {
        Status = status;
        SourceName = sourceName;
        Version = version;
        Diagnostics = diagnostics;
        Exception = exception;
    }

    /// <summary>How it ended.</summary>
    public PolicyReloadStatus Status { get; }

    /// <summary>Whether a policy answers from the source's current content (<see cref="PolicyReloadStatus.Loaded"/> or <see cref="PolicyReloadStatus.Unchanged"/>).</summary>
    public bool Succeeded => Status != PolicyReloadStatus.Failed;

    /// <summary>The source's name (a file path, or the name given).</summary>
    public string SourceName { get; }

    /// <summary>The version that answers after this reload (the previous one when it failed).</summary>
    public PolicyVersion Version { get; }

    /// <summary>Every error and warning of the load: on failure, why it failed.</summary>
    public IReadOnlyList<PolicyDiagnostic> Diagnostics { get; }

    /// <summary>The exception behind a read failure (an I/O error, or one thrown by a delegate source), if any.</summary>
    public Exception? Exception { get; }

    /// <inheritdoc/>
    public override string ToString()
        => Status == PolicyReloadStatus.Failed
            ? $"{SourceName}: reload failed ({Diagnostics.Count(d => d.IsError)} error(s)); {Version} keeps answering"
            : $"{SourceName}: {Status.ToString().ToLowerInvariant()}, {Version} answers";
}

/// <summary>Thrown when the policy is rejected at start-up: the message lists every diagnostic.</summary>
public sealed class PolicyLoadException : Exception
{
    /// <summary>Creates the exception with no diagnostics.</summary>
    public PolicyLoadException()
        : this("The AiRbac policy was rejected.")
    {
    }

    /// <summary>Creates the exception with a message and no diagnostics.</summary>
    /// <param name="message">The message.</param>
    public PolicyLoadException(string message)
        : base(message)
    {
        Diagnostics = [];
    }

    /// <summary>Creates the exception with a message, no diagnostics and an inner exception.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public PolicyLoadException(string message, Exception? innerException)
        : base(message, innerException)
    {
        Diagnostics = [];
    }

    internal PolicyLoadException(PolicyReloadResult result)
        : base(Describe(result), result.Exception)
    {
        Diagnostics = result.Diagnostics;
    }

    /// <summary>Every error and warning found.</summary>
    public IReadOnlyList<PolicyDiagnostic> Diagnostics { get; }

    private static string Describe(PolicyReloadResult result)
    {
        var text = new System.Text.StringBuilder();
        text.Append("The AiRbac policy '").Append(result.SourceName).Append("' was rejected with ")
            .Append(result.Diagnostics.Count(d => d.IsError)).Append(" error(s):");
        foreach (var diagnostic in result.Diagnostics)
        {
            text.AppendLine().Append("  ").Append(diagnostic);
        }

        return text.ToString();
    }
}
