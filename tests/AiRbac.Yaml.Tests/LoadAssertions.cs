using AiRbac.Diagnostics;

namespace AiRbac.Yaml.Tests;

/// <summary>Shorthands for loading test policies and checking diagnostics by code, line and column.</summary>
internal static class LoadAssertions
{
    public const string Source = "test.yaml";

    public static PolicyLoadResult Load(string yaml, YamlLoadLimits? limits = null)
        => YamlPolicyLoader.Load(yaml, Source, limits);

    /// <summary>Asserts the load failed with exactly one error, and returns it.</summary>
    public static PolicyDiagnostic SingleError(this PolicyLoadResult result)
    {
        result.Succeeded.Should().BeFalse();
        result.Document.Should().BeNull();
        result.Diagnostics.Should().ContainSingle(because: "the diagnostics were: {0}", string.Join(" | ", result.Diagnostics));
        return result.Diagnostics[0];
    }

    /// <summary>Asserts an error's code, line and column (and that it names the test source).</summary>
    public static void ShouldBe(this PolicyDiagnostic diagnostic, string code, int line, int column)
    {
        (diagnostic.Code, diagnostic.Location.Line, diagnostic.Location.Column)
            .Should().Be((code, line, column), because: "the diagnostic was {0}", diagnostic);
        diagnostic.IsError.Should().BeTrue();
    }

    /// <summary>The (code, line, column) of every diagnostic, in order.</summary>
    public static IEnumerable<(string Code, int Line, int Column)> Positions(this PolicyLoadResult result)
        => result.Diagnostics.Select(d => (d.Code, d.Location.Line, d.Location.Column));
}
