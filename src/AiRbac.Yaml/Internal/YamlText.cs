using System.Security;
using System.Text;
using AiRbac.Diagnostics;
using AiRbac.Model;

namespace AiRbac.Yaml.Internal;

/// <summary>
/// Reads the text of a YAML file within <see cref="YamlLoadLimits.MaxFileBytes"/>: the size is checked before reading, at
/// most one byte past the limit is read, and the bytes must be UTF-8 (or UTF-16/UTF-32 with a byte order mark). The one
/// bounded reader of YAML input: the policy loader uses it, and the command line's test files (linked as source) too.
/// Never throws for the file's content or an I/O failure: the problem is a diagnostic at line 0, column 0.
/// </summary>
/// <param name="What">How messages name the input ("policy", "test file").</param>
internal readonly record struct YamlText(string What)
{
    private const int ReadChunkBytes = Tuning.Yaml.ReadChunkBytes;

    // Strict UTF-8 (invalid bytes are an error, not silently replaced); a byte order mark selects UTF-16 or UTF-32.
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>The problem with text already in memory (too large), or <see langword="null"/>.</summary>
    public PolicyDiagnostic? CheckSize(string yaml, string sourceName, YamlLoadLimits limits)
    {
        // Cheap bound first: UTF-8 needs at least one byte per UTF-16 character and at most three. The count uses the
        // replacing encoder: a lone surrogate in the text is then a YAML matter, not an exception.
        return yaml.Length > limits.MaxFileBytes
            || ((long)yaml.Length * 3 > limits.MaxFileBytes && Encoding.UTF8.GetByteCount(yaml) > limits.MaxFileBytes)
            ? TooLarge(sourceName, limits)
            : null;
    }

    /// <summary>Reads a stream from its current position (not closed); the text, or the problem.</summary>
    public string? Read(Stream stream, string sourceName, YamlLoadLimits limits, out PolicyDiagnostic? problem)
    {
        byte[] bytes;
        int length;
        try
        {
            if ((stream.CanSeek && stream.Length - stream.Position > limits.MaxFileBytes)
                || !TryReadBounded(stream, limits.MaxFileBytes, out bytes, out length))
            {
                problem = TooLarge(sourceName, limits);
                return null;
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or NotSupportedException or ObjectDisposedException)
        {
            problem = Failed(sourceName, DiagnosticCodes.YamlSyntax, $"cannot read the {What}: {ex.Message}");
            return null;
        }

        try
        {
            using var reader = new StreamReader(new MemoryStream(bytes, 0, length, writable: false), StrictUtf8, detectEncodingFromByteOrderMarks: true);
            problem = null;
            return reader.ReadToEnd();
        }
        catch (DecoderFallbackException ex)
        {
            problem = Failed(sourceName, DiagnosticCodes.YamlSyntax, $"the {What} is not valid UTF-8 text: {ex.Message}");
            return null;
        }
    }

    /// <summary>Reads a file (its size checked before it is read); the text, or the problem. The path is the source name.</summary>
    public string? ReadFile(string path, YamlLoadLimits limits, out PolicyDiagnostic? problem)
    {
        try
        {
            if (new FileInfo(path) is { Exists: true } info && info.Length > limits.MaxFileBytes)
            {
                problem = TooLarge(path, limits);
                return null;
            }

            // Readers and writers may share the file: a policy is often rewritten while a host watches it.
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, bufferSize: 1);
            return Read(stream, path, limits, out problem);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException or SecurityException)
        {
            problem = Failed(path, DiagnosticCodes.YamlSyntax, $"cannot read the {What} file: {ex.Message}");
            return null;
        }
    }

    /// <summary>Reads at most <paramref name="limit"/> + 1 bytes; false when the stream holds more than the limit.</summary>
    private static bool TryReadBounded(Stream stream, int limit, out byte[] bytes, out int length)
    {
        bytes = new byte[Math.Min(limit + 1L, ReadChunkBytes)];
        length = 0;
        while (true)
        {
            if (length == bytes.Length)
            {
                if (length > limit)
                {
                    return false;
                }

                Array.Resize(ref bytes, (int)Math.Min(limit + 1L, (long)bytes.Length * 2));
            }

            var read = stream.Read(bytes, length, bytes.Length - length);
            if (read == 0)
            {
                return length <= limit;
            }

            length += read;
        }
    }

    private PolicyDiagnostic TooLarge(string sourceName, YamlLoadLimits limits)
        => Failed(sourceName, DiagnosticCodes.LimitExceeded, $"the {What} is larger than the limit of {limits.MaxFileBytes} bytes");

    // Problems of the whole file (size, reading, encoding) have no line: they are reported at line 0, column 0.
    private static PolicyDiagnostic Failed(string sourceName, string code, string message)
        => PolicyDiagnostic.Error(code, message, new SourceLocation(sourceName, 0, 0));
}
