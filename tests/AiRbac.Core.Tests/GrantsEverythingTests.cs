using AiRbac.Diagnostics;

namespace AiRbac.Core.Tests;

/// <summary>
/// "Grants everything" has one definition (<see cref="RuleInfo.IsEverything"/>), used by the lint warning, the matrix and
/// the access review. These tests hold it to what the engine decides: every rule it calls everything allows every
/// well-formed request (actions <c>namespace:verb</c> with no <c>/</c>, resources <c>type:name</c>), and every rule
/// it does not is denied some well-formed request. The test is by form (stars, and at most one <c>:</c>): a pattern that
/// reaches every action by other means (<c>*?</c>: every non-empty action, and an empty one is <c>invalid_request</c>)
/// is not flagged.
/// </summary>
public class GrantsEverythingTests
{
    // Well-formed requests at their edges: empty parts, '/' and ':' in names, stars and brackets as plain characters.
    private static readonly string[] Actions = ["model:query", "data:read", "a:b", "x:", ":y", ":", "tool:*", "ns:verb-with.dots", "model:fine-tune"];

    private static readonly string[] Resources =
    [
        "model:gpt-4o", "dataset:patients/p-1001", "dataset:a/b/c", "dataset:", ":", ":x", "t:a:b/c", "tool:report_", "mcp:server/tool", "x:/",
    ];

    public static TheoryData<string, string> Everything => new()
    {
        { "*", "**" }, { "**", "**" }, { "***", "**" }, { "*", "***" }, { "*:*", "**" }, { "*:**", "**" }, { "**:*", "**" },
        { "*", "*:**" }, { "*:*", "*:**" }, { "**", "**:**" }, { "*:*", "**:***" },
    };

    public static TheoryData<string, string> NotEverything => new()
    {
        { "*", "*" }, { "*", "*:*" }, { "model:*", "**" }, { "*:query", "**" }, { "*", "dataset:**" }, { "*:*", "**:*" },
        { "[a-z]*", "**" }, { "*", "**/**" }, { "*:*:*", "**" }, { "*", "*:**:**" },
    };

    [Theory]
    [MemberData(nameof(Everything))]
    public void IsEverything_True_AndTheEngineAllowsEveryWellFormedRequest(string action, string resource)
    {
        var compilation = new TestPolicy().Role("r", allow: [$"{action} on {resource}"], max: "restricted").Compile();
        var policy = compilation.Policy!;

        policy.FindRole("r")!.Allow.Single().IsEverything.Should().BeTrue();
        policy.FindRole("r")!.Allow.Single().IsEveryAction.Should().BeTrue();
        compilation.Warnings.Should().Contain(w => w.Code == DiagnosticCodes.GrantsEverything);
        var subject = Subject.WithRoles("s", SubjectKind.User, "r");
        foreach (string a in Actions)
        {
            foreach (string r in Resources)
            {
                policy.Authorize(subject, a, r).Allowed.Should().BeTrue($"'{action} on {resource}' reaches {a} on {r}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(NotEverything))]
    public void IsEverything_False_AndTheEngineDeniesSomeWellFormedRequest(string action, string resource)
    {
        var compilation = new TestPolicy().Role("r", allow: [$"{action} on {resource}"], max: "restricted").Compile();
        var policy = compilation.Policy!;

        policy.FindRole("r")!.Allow.Single().IsEverything.Should().BeFalse();
        compilation.Warnings.Should().NotContain(w => w.Code == DiagnosticCodes.GrantsEverything);
        var subject = Subject.WithRoles("s", SubjectKind.User, "r");
        Actions.SelectMany(a => Resources.Select(r => (a, r)))
            .Should().Contain(p => !policy.Authorize(subject, p.a, p.r).Allowed, $"'{action} on {resource}' is not everything");
    }

    [Theory]
    [InlineData("*", true)]
    [InlineData("**", true)]
    [InlineData("*:*", true)]
    [InlineData("**:**", true)]
    [InlineData("model:*", false)]
    [InlineData("*:read", false)]
    [InlineData("[a-z]*", false)]
    public void IsEveryAction_MatchesTheEngineOnWellFormedActions(string action, bool every)
    {
        var policy = new TestPolicy().Role("r", allow: [$"{action} on **"], max: "restricted").Build();
        var subject = Subject.WithRoles("s", SubjectKind.User, "r");

        policy.FindRole("r")!.Allow.Single().IsEveryAction.Should().Be(every);
        Actions.All(a => policy.Authorize(subject, a, "model:m").Allowed).Should().Be(every);
    }
}
