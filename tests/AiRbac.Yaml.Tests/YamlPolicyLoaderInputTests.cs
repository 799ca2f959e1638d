using System.Text;
using AiRbac.Diagnostics;

namespace AiRbac.Yaml.Tests;

/// <summary>Loading from streams and files: encodings, size checks before reading, unreadable files.</summary>
public sealed class YamlPolicyLoaderInputTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("airbac-yaml-tests-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    [Fact]
    public void Load_Utf8StreamWithByteOrderMark_Loads()
    {
        using var stream = new MemoryStream([.. Encoding.UTF8.GetPreamble(), .. Encoding.UTF8.GetBytes(Policies.Minimal)]);

        var result = YamlPolicyLoader.Load(stream, "s.yaml");

        result.Diagnostics.Should().BeEmpty();
        result.Document!.Roles[0].Name.Location.Should().Be(new Model.SourceLocation("s.yaml", 3, 3));
    }

    [Fact]
    public void Load_Utf16StreamWithByteOrderMark_Loads()
    {
        using var stream = new MemoryStream([.. Encoding.Unicode.GetPreamble(), .. Encoding.Unicode.GetBytes(Policies.Minimal)]);

        YamlPolicyLoader.Load(stream, "s.yaml").Succeeded.Should().BeTrue();
    }

    [Fact]
    public void Load_StreamReadsFromItsCurrentPosition()
    {
        using var stream = new MemoryStream(Encoding.UTF8.GetBytes("garbage: [\n" + Policies.Minimal));
        stream.Position = "garbage: [\n".Length;

        YamlPolicyLoader.Load(stream, "s.yaml").Succeeded.Should().BeTrue();
    }

    [Fact]
    public void Load_InvalidUtf8_ReportsYamlSyntax()
    {
        using var stream = new MemoryStream([.. Encoding.UTF8.GetBytes("version: 1\nroles: {"), 0xC3, 0x28, .. "a: {}}\n"u8.ToArray()]);

        var error = YamlPolicyLoader.Load(stream, "s.yaml").SingleError();

        error.ShouldBe(DiagnosticCodes.YamlSyntax, 0, 0);
        error.Message.Should().StartWith("the policy is not valid UTF-8 text");
    }

    [Fact]
    public void Load_EndlessStream_ReadsAtMostOneBytePastTheLimit()
    {
        using var stream = new EndlessStream();
        var limits = new YamlLoadLimits { MaxFileBytes = 100_000 };

        var error = YamlPolicyLoader.Load(stream, "s.yaml", limits).SingleError();

        error.ShouldBe(DiagnosticCodes.LimitExceeded, 0, 0);
        stream.BytesRead.Should().Be(100_001);
    }

    [Fact]
    public void Load_EndlessStreamWithDefaultLimits_IsRefused()
    {
        using var stream = new EndlessStream();

        YamlPolicyLoader.Load(stream, "s.yaml").SingleError().ShouldBe(DiagnosticCodes.LimitExceeded, 0, 0);
        stream.BytesRead.Should().Be((16 * 1024 * 1024) + 1);
    }

    [Fact]
    public void Load_LargeSeekableStream_IsRefusedWithoutReading()
    {
        using var stream = new MemoryStream(new byte[20 * 1024 * 1024]);

        YamlPolicyLoader.Load(stream, "s.yaml").SingleError().ShouldBe(DiagnosticCodes.LimitExceeded, 0, 0);
        stream.Position.Should().Be(0);
    }

    [Fact]
    public void Load_FailingStream_ReportsADiagnostic()
    {
        using var stream = new EndlessStream { FailAfter = 10 };

        var error = YamlPolicyLoader.Load(stream, "s.yaml").SingleError();

        error.ShouldBe(DiagnosticCodes.YamlSyntax, 0, 0);
        error.Message.Should().StartWith("cannot read the policy");
    }

    [Fact]
    public void LoadFile_ValidFile_UsesThePathAsSource()
    {
        var path = Write("policy.yaml", Policies.Minimal);

        var result = YamlPolicyLoader.LoadFile(path);

        result.Succeeded.Should().BeTrue();
        result.Document!.Roles[0].Location.Source.Should().Be(path);
    }

    [Fact]
    public void LoadFile_ErrorInFile_NamesTheFile()
    {
        var path = Write("policy.yaml", "version: 3\nroles: {a: {}}\n");

        var error = YamlPolicyLoader.LoadFile(path).SingleError();

        error.ShouldBe(DiagnosticCodes.UnsupportedVersion, 1, 10);
        error.Location.Source.Should().Be(path);
        error.ToString().Should().Be($"{path}:1:10: error unsupported_version: version must be the plain scalar 1 or 2, found '3'");
    }

    [Fact]
    public void LoadFile_MissingFile_ReportsADiagnostic()
    {
        var path = Path.Combine(directory, "missing.yaml");

        var error = YamlPolicyLoader.LoadFile(path).SingleError();

        error.ShouldBe(DiagnosticCodes.YamlSyntax, 0, 0);
        error.Location.Source.Should().Be(path);
        error.Message.Should().StartWith("cannot read the policy file: ");
    }

    [Fact]
    public void LoadFile_Directory_ReportsADiagnostic()
    {
        YamlPolicyLoader.LoadFile(directory).SingleError().ShouldBe(DiagnosticCodes.YamlSyntax, 0, 0);
    }

    [Fact]
    public void LoadFile_TwentyMegabyteFile_IsRefusedBeforeReading()
    {
        var path = Path.Combine(directory, "huge.yaml");
        using (var file = File.Create(path))
        {
            file.SetLength(20L * 1024 * 1024);
        }

        YamlPolicyLoader.LoadFile(path).SingleError().ShouldBe(DiagnosticCodes.LimitExceeded, 0, 0);
    }

    [Fact]
    public void LoadFile_FileOverCustomLimit_IsRefused()
    {
        var path = Write("policy.yaml", Policies.Minimal);

        YamlPolicyLoader.LoadFile(path, new YamlLoadLimits { MaxFileBytes = 8 }).SingleError().ShouldBe(DiagnosticCodes.LimitExceeded, 0, 0);
    }

    [Fact]
    public void Load_NullArguments_Throw()
    {
        FluentActions.Invoking(() => YamlPolicyLoader.Load((string)null!, "s")).Should().Throw<ArgumentNullException>();
        FluentActions.Invoking(() => YamlPolicyLoader.Load("x", null!)).Should().Throw<ArgumentNullException>();
        FluentActions.Invoking(() => YamlPolicyLoader.Load((Stream)null!, "s")).Should().Throw<ArgumentNullException>();
        FluentActions.Invoking(() => YamlPolicyLoader.LoadFile(null!)).Should().Throw<ArgumentNullException>();
    }

    private string Write(string name, string text)
    {
        var path = Path.Combine(directory, name);
        File.WriteAllText(path, text);
        return path;
    }

    /// <summary>A non-seekable stream of endless spaces that counts what was read from it.</summary>
    private sealed class EndlessStream : Stream
    {
        public long BytesRead { get; private set; }

        public long FailAfter { get; init; } = long.MaxValue;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count)
        {
            if (BytesRead >= FailAfter)
            {
                throw new IOException("the device is gone");
            }

            buffer.AsSpan(offset, count).Fill((byte)' ');
            BytesRead += count;
            return count;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
