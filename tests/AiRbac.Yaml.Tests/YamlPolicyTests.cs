using AiRbac.Diagnostics;

namespace AiRbac.Yaml.Tests;

public sealed class YamlPolicyTests
{
    [Fact]
    public void Compile_PolicyThatDoesNotLoad_ReturnsTheLoadErrorsWithoutCompiling()
    {
        var result = YamlPolicy.Compile("version: 1\n", "test.yaml");

        result.Succeeded.Should().BeFalse();
        result.Policy.Should().BeNull();
        result.Diagnostics.Should().ContainSingle().Which.ShouldBe(DiagnosticCodes.MissingKey, 1, 1);
    }

    [Fact]
    public void CompileFile_MissingFile_ReturnsADiagnostic()
    {
        var result = YamlPolicy.CompileFile(Path.Combine(Path.GetTempPath(), "airbac-no-such-policy.yaml"));

        result.Succeeded.Should().BeFalse();
        result.Diagnostics.Should().ContainSingle().Which.ShouldBe(DiagnosticCodes.YamlSyntax, 0, 0);
    }

    [Fact]
    public void Compile_SpecExample_Succeeds()
    {
        var result = YamlPolicy.Compile(Policies.SpecExample, "test.yaml");

        result.Succeeded.Should().BeTrue();
        result.Policy.Should().NotBeNull();
        result.Diagnostics.Should().OnlyContain(d => !d.IsError);
    }
}
