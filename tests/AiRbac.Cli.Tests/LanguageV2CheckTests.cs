namespace AiRbac.Cli.Tests;

/// <summary>
/// <c>airbac check</c> on policy language version 2: request lines carry a context (docs/request-lines.md) and decision
/// lines name a failed condition.
/// </summary>
public sealed class LanguageV2CheckTests
{
    internal const string Policy = """
        version: 2
        context:
          mfa: bool
          sql.table: string
          risk_score: integer
        roles:
          analyst:
            allow: [ "tool:invoke on tool:sql_query" ]
            conditions:
              mfa: true
              sql.table: "sales_*"
              risk_score: { max: 50 }
        """;

    [Fact]
    public void Check_ContextInRequestLines_DecidesWithIt()
    {
        using var files = new TempFiles();
        string policy = files.Write("p.yaml", Policy);
        string corpus = string.Join('\n',
            """{"subject":"alice","roles":["analyst"],"action":"tool:invoke","resource":"tool:sql_query","context":{"mfa":true,"sql.table":"sales_2026","risk_score":10}}""",
            """{"subject":"alice","roles":["analyst"],"action":"tool:invoke","resource":"tool:sql_query","context":{"mfa":true,"sql.table":"hr","risk_score":10}}""",
            """{"subject":"alice","roles":["analyst"],"action":"tool:invoke","resource":"tool:sql_query"}""",
            """{"subject":"alice","roles":["analyst"],"action":"tool:invoke","resource":"tool:sql_query","context":{"mfa":"true"}}""");

        var result = Cli.RunWithInput(corpus, "check", policy, "--requests", "-");

        result.ExitCode.Should().Be(0, result.Error);
        result.OutLines.Should().Equal(
            """{"allowed":true,"reason":"allowed","role":"analyst","rule":"tool:invoke on tool:sql_query"}""",
            """{"allowed":false,"reason":"condition_failed","role":"analyst","rule":"tool:invoke on tool:sql_query","condition":"sql.table: sales_*"}""",
            """{"allowed":false,"reason":"condition_failed","role":"analyst","rule":"tool:invoke on tool:sql_query","condition":"mfa: true"}""",
            """{"allowed":false,"reason":"invalid_request"}""");
    }

    [Fact]
    public void Check_BreakGlassActivationOnTheSubject_IsThatSubjects()
    {
        using var files = new TempFiles();
        string policy = files.Write("p.yaml", """
            version: 2
            roles:
              emergency:
                break_glass: { max_activation: 4h }
                allow: [ "data:read on dataset:**" ]
              bot:
                allow: [ "data:read on dataset:**" ]
            """);
        string corpus = string.Join('\n',
            """{"subject":"nina","roles":["emergency"],"break_glass":[{"role":"emergency","justification":"outage","start":"2026-06-01T11:00:00Z"}],"action":"data:read","resource":"dataset:x"}""",
            """{"subject":"nina","roles":["emergency"],"action":"data:read","resource":"dataset:x"}""",
            """{"subject":"bot","roles":["bot"],"action":"data:read","resource":"dataset:x","on_behalf_of":{"subject":"nina","roles":["emergency"],"break_glass":[{"role":"emergency","justification":"outage","start":"2026-06-01T11:00:00Z"}]}}""",
            """{"subject":"bot","roles":["emergency"],"action":"data:read","resource":"dataset:x","on_behalf_of":{"subject":"nina","roles":["emergency"],"break_glass":[{"role":"emergency","justification":"outage","start":"2026-06-01T11:00:00Z"}]}}""");

        var result = Cli.RunWithInput(corpus, "check", policy, "--requests", "-", "--now", "2026-06-01T12:00:00Z");

        result.ExitCode.Should().Be(0, result.Error);
        result.OutLines.Should().Equal(
            """{"allowed":true,"reason":"allowed","role":"emergency","rule":"data:read on dataset:**","break_glass_role":"emergency"}""",
            """{"allowed":false,"reason":"break_glass_not_active","role":"emergency","rule":"data:read on dataset:**"}""",
            """{"allowed":true,"reason":"allowed","role":"bot","rule":"data:read on dataset:**","break_glass_role":"emergency"}""",
            """{"allowed":false,"reason":"break_glass_not_active","role":"emergency","rule":"data:read on dataset:**"}""");
    }

    [Fact]
    public void Check_ApprovalsInRequestLines_AreCounted_AndTheDecisionNamesTheRule()
    {
        using var files = new TempFiles();
        string policy = files.Write("p.yaml", """
            version: 2
            roles:
              ml-engineer:
                allow: [ "model:deploy on model:*" ]
              release-manager:
                allow: [ "model:query on model:*" ]
            approvals:
              prod-deploy:
                match: [ "model:deploy on model:prod-*" ]
                approvers: [release-manager]
                valid_for: 4h
            bindings:
              subjects:
                erin: { roles: [ml-engineer] }
                rita: { roles: [release-manager] }
            """);
        string corpus = string.Join('\n',
            """{"subject":"erin","action":"model:deploy","resource":"model:prod-eu","approvals":[{"approver":"rita","rule":"prod-deploy","at":"2026-06-01T11:00:00Z"}]}""",
            """{"subject":"erin","action":"model:deploy","resource":"model:prod-eu"}""",
            """{"subject":"erin","action":"model:deploy","resource":"model:prod-eu","approvals":[{"approver":"erin","rule":"prod-deploy","at":"2026-06-01T11:00:00Z"}]}""");

        var result = Cli.RunWithInput(corpus, "check", policy, "--requests", "-", "--now", "2026-06-01T12:00:00Z");

        result.ExitCode.Should().Be(0, result.Error);
        result.OutLines.Should().Equal(
            """{"allowed":true,"reason":"allowed","role":"ml-engineer","rule":"model:deploy on model:*","approval_rule":"prod-deploy"}""",
            """{"allowed":false,"reason":"approval_required","role":"ml-engineer","rule":"model:deploy on model:*","approval_rule":"prod-deploy"}""",
            """{"allowed":false,"reason":"approval_required","role":"ml-engineer","rule":"model:deploy on model:*","approval_rule":"prod-deploy"}""");
    }

    [Theory]
    [InlineData("""[{"approver":"rita","rule":"r"}]""", "missing 'at'")]
    [InlineData("""[{"approver":"rita","rule":"r","at":"noon"}]""", "RFC 3339")]
    [InlineData("""[{"approver":"rita","rule":"r","at":"2026-06-01T11:00:00Z","by":"x"}]""", "unknown field")]
    [InlineData("""{"approver":"rita"}""", "array")]
    public void Check_BadApproval_IsABadLine(string approvals, string message)
    {
        using var files = new TempFiles();
        string policy = files.Write("p.yaml", Policy);
        string line = $$"""{"subject":"erin","roles":["analyst"],"approvals":{{approvals}},"action":"x:y","resource":"a:b"}""";

        var result = Cli.RunWithInput(line, "check", policy, "--requests", "-");

        result.ExitCode.Should().Be(2);
        result.Error.Should().Contain(message);
    }

    [Theory]
    [InlineData("""[{"role":"emergency","justification":"x"}]""", "missing 'start'")]
    [InlineData("""[{"role":"emergency","justification":"x","start":"yesterday"}]""", "RFC 3339")]
    [InlineData("""[{"role":"emergency","justification":"x","start":"2026-06-01T11:00:00Z","until":"x"}]""", "unknown field")]
    [InlineData("""{"role":"emergency"}""", "array")]
    public void Check_BadActivation_IsABadLine(string activations, string message)
    {
        using var files = new TempFiles();
        string policy = files.Write("p.yaml", Policy);
        string line = $$"""{"subject":"nina","roles":["analyst"],"break_glass":{{activations}},"action":"x:y","resource":"a:b"}""";

        var result = Cli.RunWithInput(line, "check", policy, "--requests", "-");

        result.ExitCode.Should().Be(2);
        result.Error.Should().Contain(message);
    }

    [Theory]
    [InlineData("""{"mfa":null}""")]
    [InlineData("""{"risk_score":1.5}""")]
    [InlineData("""{"risk_score":1e3}""")]
    [InlineData("""{"risk_score":99999999999999999999}""")]
    [InlineData("""{"mfa":[true]}""")]
    [InlineData("""["mfa"]""")]
    public void Check_ContextValueOfNoType_IsABadLine(string context)
    {
        using var files = new TempFiles();
        string policy = files.Write("p.yaml", Policy);
        string line = $$"""{"subject":"alice","roles":["analyst"],"action":"tool:invoke","resource":"tool:sql_query","context":{{context}}}""";

        var result = Cli.RunWithInput(line, "check", policy, "--requests", "-");

        result.ExitCode.Should().Be(2);
        result.Error.Should().Contain("line 1").And.Contain("context");
    }

    [Fact]
    public void Check_ContextKeyTwice_IsABadLine()
    {
        using var files = new TempFiles();
        string policy = files.Write("p.yaml", Policy);

        var result = Cli.RunWithInput("""{"subject":"a","roles":["analyst"],"action":"x:y","resource":"a:b","context":{"mfa":true,"mfa":false}}""", "check", policy, "--requests", "-");

        result.ExitCode.Should().Be(2);
    }
}
