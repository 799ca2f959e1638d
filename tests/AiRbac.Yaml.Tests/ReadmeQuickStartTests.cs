namespace AiRbac.Yaml.Tests;

/// <summary>The README's quick start, run as written against the demo policy in the repository.</summary>
public sealed class ReadmeQuickStartTests
{
    [Fact]
    public void QuickStart_DemoPolicy_GivesTheDecisionsTheReadmeShows()
    {
        string root = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(root, "AiRbac.sln")))
        {
            root = Path.GetDirectoryName(root) ?? throw new InvalidOperationException("repository root not found");
        }

        var compilation = YamlPolicy.CompileFile(Path.Combine(root, "src/AiRbac.Cli/Demo/demo-policy.yaml"));
        compilation.Diagnostics.Should().NotContain(d => d.IsError);
        var policy = compilation.Policy!;

        var alice = Subject.WithRoles("alice", SubjectKind.User, "business-analyst");
        var agent = Subject.WithRoles("support-bot", SubjectKind.Agent, "business-analyst").ActingFor(alice);

        policy.Authorize(agent, "tool:invoke", "tool:report_weekly").Allowed.Should().BeTrue();
        policy.Authorize(agent, "tool:invoke", "tool:shell_exec").Explain().Should()
            .StartWith("Denied (explicit_deny): role 'business-analyst' denies 'tool:invoke on tool:shell_*' (")
            .And.EndWith("demo-policy.yaml:24:9); deny beats allow.");
        var rag = new ResourceRequest("model:gpt-4o") { Sensitivity = "confidential", Tags = new[] { "phi" } };
        policy.Authorize(alice, "model:query", rag).ReasonName.Should().Be("missing_tag_clearance");
    }
}
