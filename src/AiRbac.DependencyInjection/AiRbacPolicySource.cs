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

    // The checksum file of a file source: the path followed by .sha256.
    internal string? ChecksumFilePath => FilePath is null ? null : FilePath + ".sha256";

    // Reads the policy bytes (for a file, with its length and last write time, and checked against the checksum file
    // when one is required). Every failure to read is a diagnostic, never an exception.
    internal SourceBytes Read(YamlLoadLimits limits, bool requireChecksum = false)
    {
        if (FilePath is not null)
        {
            var read = ReadFile(FilePath, limits);
            return requireChecksum && read.Bytes is not null ? CheckChecksum(read, ReadChecksumFile()) : read;
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
    internal async ValueTask<SourceBytes> ReadAsync(YamlLoadLimits limits, bool requireChecksum, CancellationToken cancellationToken)
    {
        if (FilePath is null)
        {
            return Read(limits);
        }

        var read = await ReadFileAsync(FilePath, limits, cancellationToken).ConfigureAwait(false);
        if (!requireChecksum || read.Bytes is null)
        {
            return read;
        }

        string? checksum;
        try
        {
            checksum = await File.ReadAllTextAsync(ChecksumFilePath!, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return SourceBytes.Failed(Problem($"cannot read the checksum file '{ChecksumFilePath}': {ex.Message}"), ex);
        }

        return CheckChecksum(read, checksum);
    }

    private async ValueTask<SourceBytes> ReadFileAsync(string path, YamlLoadLimits limits, CancellationToken cancellationToken)
    {
        try
        {
            var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 4096, useAsync: true);
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

                return SourceBytes.Of(read == bytes.Length ? bytes : bytes[..read], file.Length, File.GetLastWriteTimeUtc(file.SafeFileHandle));
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
            if (file.Length > limits.MaxFileBytes)
            {
                return TooLarge(file, limits);
            }

            // The length and the last write time from the open file (the target of a link), after the read: a
            // writer still at work changes one of them or the bytes before the second read of a watched reload.
            byte[] bytes = ReadAll(file);
            return SourceBytes.Of(bytes, file.Length, File.GetLastWriteTimeUtc(file.SafeFileHandle));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return SourceBytes.Failed(Problem($"cannot read the policy: {ex.Message}"), ex);
        }
    }

    private string? ReadChecksumFile()
    {
        try
        {
            return File.ReadAllText(ChecksumFilePath!);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return "!" + ex.Message;
        }
    }

    // The policy is taken only when the first word of the checksum file is the SHA-256 of the bytes read. The hashes
    // are in the message, so that a different content or checksum gives a different failure.
    private SourceBytes CheckChecksum(SourceBytes read, string? checksumText)
    {
        if (checksumText is null || checksumText.StartsWith('!'))
        {
            return SourceBytes.Failed(Problem($"cannot read the checksum file '{ChecksumFilePath}': {checksumText?[1..]}"), null);
        }

        string actual = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(read.Bytes!));
        string expected = checksumText.Split((char[]?)null, 2, StringSplitOptions.RemoveEmptyEntries) is [var first, ..] ? first : string.Empty;
        return string.Equals(expected, actual, StringComparison.OrdinalIgnoreCase)
            ? read
            : SourceBytes.Failed(
                Problem($"the policy (sha256 {actual}) does not match its checksum file '{ChecksumFilePath}' (sha256 '{expected}'): it is incomplete, or its checksum was not written yet"),
                null);
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
        => SourceBytes.Failed(YamlPolicy.Compile(content, SourceName, limits: limits).Diagnostics, null);

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
/// <remarks>For a file, <see cref="Length"/> and <see cref="LastWriteUtc"/> are the file's at the read; otherwise -1 and the default.</remarks>
internal readonly record struct SourceBytes(byte[]? Bytes, IReadOnlyList<PolicyDiagnostic> Diagnostics, Exception? Exception, long Length, DateTime LastWriteUtc)
{
    public static SourceBytes Of(byte[] bytes) => new(bytes, [], null, -1, default);

    public static SourceBytes Of(byte[] bytes, long length, DateTime lastWriteUtc) => new(bytes, [], null, length, lastWriteUtc);

    public static SourceBytes Failed(IReadOnlyList<PolicyDiagnostic> diagnostics, Exception? exception) => new(null, diagnostics, exception, -1, default);

    // What a read saw, to tell whether the source changed: the content hash, or the reason it could not be read.
    public string Fingerprint()
        => Bytes is not null
            ? Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Bytes))
            : "!" + string.Join("\n", Diagnostics.Select(d => d.Message));

    // Two reads of a stable source: the same bytes, length and last write time, or the same failure.
    public bool SameAs(SourceBytes other)
        => Bytes is not null && other.Bytes is not null
            ? Length == other.Length && LastWriteUtc == other.LastWriteUtc && Bytes.AsSpan().SequenceEqual(other.Bytes)
            : Bytes is null && other.Bytes is null && Fingerprint() == other.Fingerprint();
}
