using System.Text;
using AiRbac.Diagnostics;
using AiRbac.Model;
using AiRbac.Yaml;

namespace AiRbac;

/// <summary>
/// Where the YAML policy comes from: a file (which can be watched), a string, a stream (read once) or a delegate
/// (called on every reload). Immutable; create one with a <c>From…</c> method.
/// </summary>
public sealed class AiRbacPolicySource
{
    private readonly string? yaml;
    private readonly Stream? stream;
    private readonly Func<string>? factory;
    private readonly Lock streamGate = new();
    private byte[]? streamBytes;

    private AiRbacPolicySource(string sourceName, string? filePath, string? yaml, Stream? stream, Func<string>? factory)
    {
        SourceName = sourceName;
        FilePath = filePath;
        this.yaml = yaml;
        this.stream = stream;
        this.factory = factory;
    }

    /// <summary>The name used in diagnostics: the file path, or the name given.</summary>
    public string SourceName { get; }

    /// <summary>The full path of the policy file, or <see langword="null"/> when the source is not a file.</summary>
    public string? FilePath { get; }

    /// <summary>A policy file. It can be watched and reloaded when it changes.</summary>
    /// <param name="path">The file path (made absolute).</param>
    /// <returns>The source.</returns>
    /// <exception cref="ArgumentException"><paramref name="path"/> is null or empty.</exception>
    public static AiRbacPolicySource FromFile(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string full = Path.GetFullPath(path);
        return new AiRbacPolicySource(path, full, null, null, null);
    }

    /// <summary>A policy given as YAML text. Reloading it changes nothing.</summary>
    /// <param name="yaml">The YAML text.</param>
    /// <param name="sourceName">The name used in diagnostics.</param>
    /// <returns>The source.</returns>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    public static AiRbacPolicySource FromYaml(string yaml, string sourceName)
    {
        ArgumentNullException.ThrowIfNull(yaml);
        ArgumentNullException.ThrowIfNull(sourceName);
        return new AiRbacPolicySource(sourceName, null, yaml, null, null);
    }

    /// <summary>
    /// A policy read from a stream (UTF-8, or UTF-16/UTF-32 with a byte order mark). The stream is read once, at the
    /// first load, from its current position, and not closed; reloading it changes nothing.
    /// </summary>
    /// <param name="stream">The stream.</param>
    /// <param name="sourceName">The name used in diagnostics.</param>
    /// <returns>The source.</returns>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    public static AiRbacPolicySource FromStream(Stream stream, string sourceName)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(sourceName);
        return new AiRbacPolicySource(sourceName, null, null, stream, null);
    }

    /// <summary>
    /// A policy produced by a delegate that returns YAML text, called at start-up and on every reload (for example to
    /// read a policy from a database). An exception it throws fails that load.
    /// </summary>
    /// <param name="yamlFactory">Returns the YAML text.</param>
    /// <param name="sourceName">The name used in diagnostics.</param>
    /// <returns>The source.</returns>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    public static AiRbacPolicySource FromFactory(Func<string> yamlFactory, string sourceName)
    {
        ArgumentNullException.ThrowIfNull(yamlFactory);
        ArgumentNullException.ThrowIfNull(sourceName);
        return new AiRbacPolicySource(sourceName, null, null, null, yamlFactory);
    }

    /// <inheritdoc/>
    public override string ToString() => SourceName;

    // Reads the policy bytes. Every failure to read is a diagnostic, never an exception.
    internal SourceBytes Read(YamlLoadLimits limits)
    {
        if (FilePath is not null)
        {
            return ReadFile(FilePath, limits);
        }

        if (yaml is not null)
        {
            return SourceBytes.Of(Encoding.UTF8.GetBytes(yaml));
        }

        if (stream is not null)
        {
            return ReadStreamOnce(limits);
        }

        string text;
        try
        {
            text = factory!();
        }
#pragma warning disable CA1031 // Reason: the delegate is user code; its failure fails this load and is reported as a diagnostic with the exception.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            return SourceBytes.Failed(Problem($"the policy delegate threw {ex.GetType().Name}: {ex.Message}"), ex);
        }

        return text is null
            ? SourceBytes.Failed(Problem("the policy delegate returned null"), null)
            : SourceBytes.Of(Encoding.UTF8.GetBytes(text));
    }

    // Reads the policy bytes asynchronously (real asynchronous I/O for files; the other sources are in memory or user code).
    internal async ValueTask<SourceBytes> ReadAsync(YamlLoadLimits limits, CancellationToken cancellationToken)
    {
        if (FilePath is null)
        {
            return Read(limits);
        }

        try
        {
            var file = new FileStream(FilePath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 4096, useAsync: true);
            await using (file.ConfigureAwait(false))
            {
                if (file.Length > limits.MaxFileBytes)
                {
                    return TooLarge(file, limits);
                }

                byte[] bytes = new byte[file.Length];
                int read = 0;
                while (read < bytes.Length)
                {
                    int n = await file.ReadAsync(bytes.AsMemory(read), cancellationToken).ConfigureAwait(false);
                    if (n == 0)
                    {
                        break;
                    }

                    read += n;
                }

                return SourceBytes.Of(read == bytes.Length ? bytes : bytes[..read]);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return SourceBytes.Failed(Problem($"cannot read the policy: {ex.Message}"), ex);
        }
    }

    private SourceBytes ReadFile(string path, YamlLoadLimits limits)
    {
        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            return file.Length > limits.MaxFileBytes ? TooLarge(file, limits) : SourceBytes.Of(ReadAll(file));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return SourceBytes.Failed(Problem($"cannot read the policy: {ex.Message}"), ex);
        }
    }

    private SourceBytes ReadStreamOnce(YamlLoadLimits limits)
    {
        lock (streamGate)
        {
            if (streamBytes is null)
            {
                try
                {
                    if (stream!.CanSeek && stream.Length - stream.Position > limits.MaxFileBytes)
                    {
                        return TooLarge(stream, limits);
                    }

                    streamBytes = ReadAll(stream);
                }
                catch (Exception ex) when (ex is IOException or NotSupportedException or ObjectDisposedException)
                {
                    return SourceBytes.Failed(Problem($"cannot read the policy: {ex.Message}"), ex);
                }
            }

            return SourceBytes.Of(streamBytes);
        }
    }

    // The loader words the size error; reuse it so that the diagnostic matches the CLI's.
    private SourceBytes TooLarge(Stream content, YamlLoadLimits limits)
        => SourceBytes.Failed(YamlPolicyLoader.Load(content, SourceName, limits).Diagnostics, null);

    private static byte[] ReadAll(Stream content)
    {
        using var buffer = new MemoryStream();
        content.CopyTo(buffer);
        return buffer.ToArray();
    }

    private PolicyDiagnostic[] Problem(string message)
        => [PolicyDiagnostic.Error(DiagnosticCodes.YamlSyntax, message, new SourceLocation(SourceName, 0, 0))];
}

/// <summary>The bytes of a policy, or why they could not be read.</summary>
internal readonly record struct SourceBytes(byte[]? Bytes, IReadOnlyList<PolicyDiagnostic> Diagnostics, Exception? Exception)
{
    public static SourceBytes Of(byte[] bytes) => new(bytes, [], null);

    public static SourceBytes Failed(IReadOnlyList<PolicyDiagnostic> diagnostics, Exception? exception) => new(null, diagnostics, exception);
}
