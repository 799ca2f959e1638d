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

/// <summary>
/// The outcome of a load or reload, as the <c>Reloaded</c> event and the health check report it: the status, the
/// version that answers afterwards, what was removed, and the <see cref="Compilation"/> of the content read (the one
/// result type every loader of AiRbac returns). Its diagnostics are not copied here: <see cref="Diagnostics"/> reads them.
/// </summary>
public sealed class PolicyReloadResult : EventArgs
{
    internal PolicyReloadResult(
        PolicyReloadStatus status,
        string sourceName,
        PolicyVersion version,
        PolicyCompilation? compilation,
        Exception? exception,
        IReadOnlyList<string>? removedRoles = null,
        IReadOnlyList<RemovedDeny>? removedDenies = null)
    {
        Status = status;
        SourceName = sourceName;
        Version = version;
        Compilation = compilation;
        Exception = exception;
        RemovedRoles = removedRoles ?? [];
        RemovedDenies = removedDenies ?? [];
    }

    /// <summary>How it ended.</summary>
    public PolicyReloadStatus Status { get; }

    /// <summary>Whether a policy answers from the source's current content (<see cref="PolicyReloadStatus.Loaded"/> or <see cref="PolicyReloadStatus.Unchanged"/>).</summary>
    public bool Succeeded => Status != PolicyReloadStatus.Failed;

    /// <summary>The source's name (a file path, or the name given).</summary>
    public string SourceName { get; }

    /// <summary>The version that answers after this reload (the previous one when it failed).</summary>
    public PolicyVersion Version { get; }

    /// <summary>
    /// The compilation of the content read: on <see cref="PolicyReloadStatus.Loaded"/> the new policy, its document and
    /// its warnings; on <see cref="PolicyReloadStatus.Failed"/> why it failed (a source that could not be read is a
    /// failed compilation too, with no document). <see langword="null"/> only for <see cref="PolicyReloadStatus.Unchanged"/>:
    /// the content was the policy that answers, and nothing was compiled.
    /// </summary>
    public PolicyCompilation? Compilation { get; }

    /// <summary>Every error and warning of the load (<see cref="Compilation"/>'s): on failure, why it failed; empty when unchanged.</summary>
    public IReadOnlyList<PolicyDiagnostic> Diagnostics => Compilation?.Diagnostics ?? [];

    /// <summary>The exception behind a read failure (an I/O error, or one thrown by a delegate source), if any.</summary>
    public Exception? Exception { get; }

    /// <summary>
    /// The roles (by name) of the policy answering before a <see cref="PolicyReloadStatus.Loaded"/> reload that the
    /// new policy no longer declares (a role is identified by its id); empty otherwise.
    /// </summary>
    public IReadOnlyList<string> RemovedRoles { get; }

    /// <summary>
    /// The deny rules of the policy answering before a <see cref="PolicyReloadStatus.Loaded"/> reload that the new
    /// policy no longer declares on the same role, including those of removed roles; empty otherwise. Only declared
    /// denies are compared: a deny no longer reached through a changed <c>inherits</c> is not listed.
    /// </summary>
    public IReadOnlyList<RemovedDeny> RemovedDenies { get; }

    /// <inheritdoc/>
    public override string ToString()
    {
        if (Status == PolicyReloadStatus.Failed)
        {
            return $"{SourceName}: reload failed ({Diagnostics.Count(d => d.IsError)} error(s)); {Version} keeps answering";
        }

        string text = $"{SourceName}: {Status.ToString().ToLowerInvariant()}, {Version} answers";
        if (RemovedRoles.Count > 0)
        {
            text += $"; removed {RemovedRoles.Count} role(s) ({string.Join(", ", RemovedRoles)})";
        }

        if (RemovedDenies.Count > 0)
        {
            text += $"; removed {RemovedDenies.Count} deny rule(s) ({string.Join(", ", RemovedDenies)})";
        }

        return text;
    }
}

/// <summary>A deny rule that a reload removed: the role that declared it and the rule.</summary>
public sealed class RemovedDeny
{
    internal RemovedDeny(string role, string rule)
    {
        Role = role;
        Rule = rule;
    }

    /// <summary>The name of the role that declared the deny.</summary>
    public string Role { get; }

    /// <summary>The deny, as its canonical <c>ACTION on RESOURCE</c> text.</summary>
    public string Rule { get; }

    /// <inheritdoc/>
    public override string ToString() => $"{Role}: {Rule}";
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
