namespace AiRbac.Cli.Tests;

public class RootCommandTests
{
    [Fact]
    public void Run_NoCommand_IsUsageErrorOnStandardError()
    {
        var result = Cli.Run();
        result.ExitCode.Should().Be(2);
        result.Out.Should().BeEmpty();
        result.Error.Should().Contain("error:");
    }

    [Fact]
    public void Run_UnknownCommand_IsUsageError()
    {
        var result = Cli.Run("frobnicate");
        result.ExitCode.Should().Be(2);
        result.Error.Should().Contain("frobnicate");
    }

    [Fact]
    public void Run_UnknownOption_IsUsageError()
    {
        Cli.Run("lint", "--nope", "x.yaml").ExitCode.Should().Be(2);
    }

    [Theory]
    [InlineData]
    [InlineData("demo")]
    [InlineData("lint")]
    [InlineData("check")]
    [InlineData("matrix")]
    [InlineData("diff")]
    [InlineData("bench")]
    [InlineData("import")]
    [InlineData("import", "keeptrusts")]
    public void Help_EveryCommand_PrintsUsageAndExitsZero(params string[] command)
    {
        var result = Cli.Run([.. command, "--help"]);
        result.ExitCode.Should().Be(0);
        result.Out.Should().Contain("Usage:");
        result.Error.Should().BeEmpty();
    }

    [Fact]
    public void Help_Root_ListsEveryCommand()
    {
        var result = Cli.Run("--help");
        foreach (string command in new[] { "demo", "lint", "check", "matrix", "diff", "bench", "import" })
        {
            result.Out.Should().Contain(command);
        }
    }
}
