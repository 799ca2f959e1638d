using AiRbac.Model;
using AiRbac.Requests;

namespace AiRbac.Core.Tests;

/// <summary>Choices made where the specification is silent (docs/policy-language.md, "Choices where the specification is silent"), one test each.</summary>
public class SilentSpecChoicesTests
{
    private static Subject User(string id, params string[] roles) => Subject.WithRoles(id, SubjectKind.User, roles);

    private static TestPolicy WithScopedSubject(string? subjectScope, string? bindingScope, string? subjectExpires = null, string? bindingExpires = null)
    {
        var p = new TestPolicy().Role("r", allow: ["a:b on **"]);
        p.Subjects.Add(new SubjectDefinition
        {
            Id = p.L("u"),
            Scope = subjectScope is null ? null : p.L(subjectScope),
            Expires = subjectExpires is null ? null : p.L(subjectExpires),
            Roles = [new RoleBindingDefinition
            {
                Role = p.L("r"),
                Scope = bindingScope is null ? null : p.L(bindingScope),
                Expires = bindingExpires is null ? null : p.L(bindingExpires),
            }],
        });
        return p;
    }

    private static Decision At(CompiledPolicy policy, string? scope)
        => policy.Authorize(new Subject("u"), "a:b", new ResourceRequest("x:y") { Scope = scope });

    [Fact]
    public void Authorize_SubjectAndBindingScopesNest_DeeperScopeApplies()
    {
        var policy = WithScopedSubject("acme", "acme/pd").Build();
        At(policy, "acme/pd/prod").Allowed.Should().BeTrue();
        At(policy, "acme/other").Reason.Should().Be(DecisionReason.NoActiveRole);

        var reversed = WithScopedSubject("acme/pd", "acme").Build();
        At(reversed, "acme/pd").Allowed.Should().BeTrue();
        At(reversed, "acme").Reason.Should().Be(DecisionReason.NoActiveRole);
    }

    [Fact]
    public void Authorize_SubjectAndBindingScopesDoNotNest_BindingNeverAppliesButStillCounts()
    {
        var policy = WithScopedSubject("acme/a", "acme/b").Build();
        At(policy, "acme/a").Reason.Should().Be(DecisionReason.NoActiveRole, "the binding exists, so not missing_identity");
        At(policy, "acme/b").Reason.Should().Be(DecisionReason.NoActiveRole);
        At(policy, null).Reason.Should().Be(DecisionReason.NoActiveRole);
    }

    [Fact]
    public void Authorize_SubjectAndBindingExpiries_EarlierWins()
    {
        var clock = new FixedClock(TestPolicy.Now);
        var policy = WithScopedSubject(null, null, "2026-06-01T12:10:00Z", "2026-06-01T12:05:00Z").Build(clock);
        At(policy, null).Allowed.Should().BeTrue();
        clock.Now = TestPolicy.Now.AddMinutes(5);
        At(policy, null).Reason.Should().Be(DecisionReason.NoActiveRole);
    }

    [Fact]
    public void Authorize_StarActionPattern_DoesNotMatchActionWithSlash_DoubleStarDoes()
    {
        var policy = new TestPolicy().Role("star", allow: ["* on **"]).Role("double", allow: ["** on **"]).Build();
        policy.Authorize(User("u", "star"), "a/b", "x:y").Reason.Should().Be(DecisionReason.NoMatchingGrant);
        policy.Authorize(User("u", "star"), "a:b", "x:y").Allowed.Should().BeTrue();
        policy.Authorize(User("u", "double"), "a/b", "x:y").Allowed.Should().BeTrue();
    }

    [Theory]
    [InlineData("""{"subject":"a","action":"x:y","resource":"r:s","sensitivty":"public"}""", "unknown field 'sensitivty'")]
    [InlineData("""{"subject":"a","kind":"robot","action":"x:y","resource":"r:s"}""", "unknown kind 'robot'")]
    [InlineData("""{"subject":"a","roles":[{"role":"r","expires":"tomorrow"}],"action":"x:y","resource":"r:s"}""", "expires 'tomorrow'")]
    [InlineData("""{"subject":"a","resource":"r:s"}""", "missing 'action'")]
    [InlineData("""{"subject":1,"action":"x:y","resource":"r:s"}""", "'subject' must be a string")]
    [InlineData("""["not","an","object"]""", "must be a JSON object")]
    [InlineData("""{"action":""", "not valid JSON")]
    [InlineData("""{"subject":"a","action":"x:y","resource":"r:s","sensitivity":"restricted","sensitivity":"public"}""", "not valid JSON")]
    [InlineData("""{"subject":"a","action":"x:y","resource":"r:s","on_behalf_of":{"subject":"u","subject":"v"}}""", "not valid JSON")]
    [InlineData("""{"subject":"\ud800","action":"x:y","resource":"r:s"}""", "lone surrogate")]
    [InlineData("""{"subject":"a","action":"x:y","resource":"r:s","tags":["\udfff"]}""", "lone surrogate")]
    [InlineData("""{"subject":"a","roles":["r\ud800"],"action":"x:y","resource":"r:s"}""", "lone surrogate")]
    [InlineData("""{"subject":"a","action":"x:y","resource":"r:s","on_behalf_of":{"subject":"\ud83d"}}""", "lone surrogate")]
    [InlineData("""{"\ud800":"a","action":"x:y","resource":"r:s"}""", "lone surrogate")]
    public void ParseRequest_BadLine_RefusedWithReason(string line, string reason)
        => FluentActions.Invoking(() => RequestJson.ParseRequest(line)).Should().Throw<RequestFormatException>().WithMessage($"*{reason}*");

    [Fact]
    public void ParseRequest_RolesAbsentOrEmpty_PolicyBindingsOrNone()
    {
        RequestJson.ParseRequest("""{"subject":"a","action":"x:y","resource":"r:s"}""").Subject.Roles.Should().BeNull();
        RequestJson.ParseRequest("""{"subject":"a","roles":[],"action":"x:y","resource":"r:s"}""").Subject.Roles.Should().BeEmpty();
        var chain = RequestJson.ParseRequest("""{"subject":"bot","kind":"agent","roles":["r"],"action":"x:y","resource":"r:s","on_behalf_of":{"subject":"u","roles":[{"role":"r","scope":"acme"}]}}""");
        chain.Subject.OnBehalfOf!.Roles.Should().ContainSingle().Which.Scope.Should().Be("acme");
    }

    [Fact]
    public void FormatDecision_NoRoleOrRule_FieldsOmitted()
    {
        var policy = new TestPolicy().Role("r", allow: ["a:b on c:*"]).Build();
        RequestJson.FormatDecision(policy.Authorize(User("u", "r"), "a:b", "c:d"))
            .Should().Be("""{"allowed":true,"reason":"allowed","role":"r","rule":"a:b on c:*"}""");
        RequestJson.FormatDecision(policy.Authorize(User("u", "r"), "a:b", "x:y"))
            .Should().Be("""{"allowed":false,"reason":"no_matching_grant"}""");
    }
}
