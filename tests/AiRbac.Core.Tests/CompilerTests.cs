using AiRbac.Diagnostics;
using AiRbac.Model;

namespace AiRbac.Core.Tests;

public class CompilerTests
{
    private static PolicyDiagnostic Single(TestPolicy p, string code)
    {
        var compilation = p.Compile();
        compilation.Succeeded.Should().BeFalse();
        compilation.Policy.Should().BeNull("a policy with an error never half-loads");
        return compilation.Errors.Should().ContainSingle(d => d.Code == code).Subject;
    }

    private static SourceLocation LocationOf(TestPolicy p, string value)
        => p.Roles.SelectMany(r => new[] { r.Name }.Concat(r.Allow).Concat(r.Deny).Concat(r.Inherits).Concat(r.Clearances).Concat(r.Kinds ?? [])
                .Concat(r.MaxSensitivity is { } m ? [m] : []))
            .Concat(p.Resources.SelectMany(e => new[] { e.Match }.Concat(e.Sensitivity is { } s ? [s] : [])))
            .Concat(p.Exclusive.SelectMany(e => e.Roles))
            .Concat(p.NotByOwner)
            .Concat(p.Subjects.SelectMany(s => new[] { s.Id }.Concat(s.Groups).Concat(s.Expires is { } e ? [e] : []).Concat(s.Scope is { } sc ? [sc] : []).Concat(s.Kind is { } k ? [k] : [])))
            .Last(l => l.Value == value).Location;

    [Fact]
    public void Compile_ValidPolicy_Succeeds()
    {
        var c = new TestPolicy().Role("r", allow: ["a:b on c:d"]).Compile();
        c.Succeeded.Should().BeTrue();
        var rule = c.Policy!.Roles.Should().ContainSingle().Which.Allow.Should().ContainSingle().Which;
        (rule.Text, rule.Action, rule.Resource, rule.Effect, rule.Role).Should().Be(("a:b on c:d", "a:b", "c:d", RuleEffect.Allow, "r"));
    }

    [Fact]
    public void Compile_WrongVersion_UnsupportedVersion()
    {
        var d = Single(new TestPolicy { Version = "3" }.Role("r", allow: ["a:b on c:d"]), DiagnosticCodes.UnsupportedVersion);
        d.Location.Should().Be(new SourceLocation("test.yaml", 1, 10));
    }

    [Fact]
    public void Compile_NoRoles_EmptyValue() => Single(new TestPolicy(), DiagnosticCodes.EmptyValue);

    [Fact]
    public void Compile_DuplicateRoleNameAndId_DuplicateRoleAtLaterDeclaration()
    {
        var p = new TestPolicy().Role("viewer", allow: ["a:b on c"]).Role("analyst", id: "viewer", allow: ["a:b on c"]);
        var d = Single(p, DiagnosticCodes.DuplicateRole);
        d.Location.Line.Should().BeGreaterThan(p.Roles[1].Name.Location.Line);
        d.Message.Should().Contain("viewer");
    }

    [Fact]
    public void Compile_IdEqualToOwnName_IsFine()
        => new TestPolicy().Role("viewer", id: "viewer", allow: ["a:b on c"]).Compile().Succeeded.Should().BeTrue();

    [Fact]
    public void Compile_UndeclaredParent_UndeclaredRoleWithHint()
    {
        var p = new TestPolicy().Role("viewer", allow: ["a:b on c"]).Role("analyst", inherits: ["viewr"], allow: ["a:b on c"]);
        var d = Single(p, DiagnosticCodes.UndeclaredRole);
        d.Location.Should().Be(LocationOf(p, "viewr"));
        d.Message.Should().Contain("did you mean 'viewer'");
    }

    [Fact]
    public void Compile_InheritanceCycle_ReportedWithPath()
    {
        var p = new TestPolicy().Role("a", inherits: ["c"], allow: ["x:y on z"]).Role("b", inherits: ["a"]).Role("c", inherits: ["b"]);
        var d = Single(p, DiagnosticCodes.InheritanceCycle);
        d.Message.Should().Contain("->");
    }

    [Fact]
    public void Compile_SelfInheritance_Cycle() => Single(new TestPolicy().Role("a", inherits: ["a"], allow: ["x:y on z"]), DiagnosticCodes.InheritanceCycle);

    [Theory]
    [InlineData("max")]
    [InlineData("default")]
    [InlineData("catalog")]
    public void Compile_UnknownTier_UnknownTierAtValue(string where)
    {
        var p = new TestPolicy { DefaultTier = where == "default" ? "secret" : null }
            .Role("r", allow: ["a:b on c"], max: where == "max" ? "secret" : null);
        if (where == "catalog")
        {
            p.Catalog("c:*", "secret");
        }

        var d = Single(p, DiagnosticCodes.UnknownTier);
        d.Message.Should().Contain("secret");
    }

    [Fact]
    public void Compile_DuplicateTier_DuplicateTier()
        => Single(new TestPolicy { Tiers = ["low", "high", "low"] }.Role("r", allow: ["a:b on c"]), DiagnosticCodes.DuplicateTier);

    [Fact]
    public void Compile_EmptyTierList_EmptyValue()
        => Single(new TestPolicy { Tiers = [] }.Role("r", allow: ["a:b on c"]), DiagnosticCodes.EmptyValue);

    [Fact]
    public void Compile_CustomTiers_DefaultIsLowest()
    {
        var policy = new TestPolicy { Tiers = ["green", "amber", "red"] }.Role("r", allow: ["a:b on c"], max: "amber").Build();
        policy.DefaultSensitivity.Should().Be("green");
        policy.Authorize(Subject.WithRoles("u", SubjectKind.User, "r"), "a:b", new ResourceRequest("c") { Sensitivity = "red" }).Reason
            .Should().Be(DecisionReason.SensitivityCeiling);
    }

    [Theory]
    [InlineData("model:query model:x")]
    [InlineData("model:query on")]
    [InlineData("a on b on c")]
    public void Compile_MalformedRule_MalformedRuleAtRule(string rule)
    {
        var p = new TestPolicy().Role("r", allow: [rule]);
        Single(p, DiagnosticCodes.MalformedRule).Location.Should().Be(LocationOf(p, rule));
    }

    [Theory]
    [InlineData("tool:invoke on tool:[]")]
    [InlineData("tool:invoke on tool:[z-a]")]
    [InlineData("tool:[ on tool:x")]
    public void Compile_InvalidPattern_InvalidPattern(string rule)
    {
        var p = new TestPolicy().Role("r", deny: [rule], allow: ["a:b on c"]);
        Single(p, DiagnosticCodes.InvalidPattern).Location.Should().Be(LocationOf(p, rule));
    }

    [Fact]
    public void Compile_UnknownKind_InvalidKind()
    {
        var p = new TestPolicy().Role("r", allow: ["a:b on c"], kinds: ["robot"]);
        Single(p, DiagnosticCodes.InvalidKind).Location.Should().Be(LocationOf(p, "robot"));
    }

    [Fact]
    public void Compile_EmptyKinds_InvalidKind() => Single(new TestPolicy().Role("r", allow: ["a:b on c"], kinds: []), DiagnosticCodes.InvalidKind);

    [Theory]
    [InlineData("2026-12-31")]
    [InlineData("2026-12-31T00:00:00")]
    [InlineData("2026-13-01T00:00:00Z")]
    [InlineData("tomorrow")]
    public void Compile_BadTimestamp_InvalidTimestamp(string expires)
    {
        var p = new TestPolicy().Role("r", allow: ["a:b on c"]).BoundSubject("u", roles: ["r"], expires: expires);
        Single(p, DiagnosticCodes.InvalidTimestamp).Location.Should().Be(LocationOf(p, expires));
    }

    [Theory]
    [InlineData("/acme")]
    [InlineData("acme/")]
    [InlineData("acme//pd")]
    public void Compile_BadScope_InvalidScope(string scope)
        => Single(new TestPolicy().Role("r", allow: ["a:b on c"]).BoundSubject("u", roles: ["r"], scope: scope), DiagnosticCodes.InvalidScope);

    [Fact]
    public void Compile_UndeclaredGroup_UndeclaredGroup()
    {
        var p = new TestPolicy().Role("r", allow: ["a:b on c"]).BoundSubject("u", groups: ["ghosts"]);
        Single(p, DiagnosticCodes.UndeclaredGroup).Location.Should().Be(LocationOf(p, "ghosts"));
    }

    [Fact]
    public void Compile_ExclusiveListNamesRoleTwice_ByNameAndId_InvalidExclusiveSet()
        => Single(new TestPolicy().Role("a", id: "ra", allow: ["x:y on z"]).Role("b", allow: ["x:y on z"]).MutuallyExclusive("a", "ra"), DiagnosticCodes.InvalidExclusiveSet);

    [Fact]
    public void Compile_ExclusiveRolesJoinedByInheritance_InvalidExclusiveSet()
    {
        Single(new TestPolicy().Role("a", allow: ["x:y on z"]).Role("b", inherits: ["a"]).MutuallyExclusive("a", "b"), DiagnosticCodes.InvalidExclusiveSet);
        Single(new TestPolicy().Role("a", allow: ["x:y on z"]).Role("b", allow: ["x:y on z"]).Role("c", inherits: ["a", "b"]).MutuallyExclusive("a", "b"),
            DiagnosticCodes.InvalidExclusiveSet).Message.Should().Contain("'c'");
    }

    [Fact]
    public void Compile_ExclusiveListOfOne_InvalidExclusiveSet()
        => Single(new TestPolicy().Role("a", allow: ["x:y on z"]).MutuallyExclusive("a"), DiagnosticCodes.InvalidExclusiveSet);

    [Fact]
    public void Compile_ConstraintNamesUndeclaredRole_UndeclaredRole()
        => Single(new TestPolicy().Role("a", allow: ["x:y on z"]).MutuallyExclusive("a", "ghost"), DiagnosticCodes.UndeclaredRole);

    [Fact]
    public void Compile_BadMinHoldersCount_InvalidValue()
    {
        var p = new TestPolicy().Role("a", allow: ["x:y on z"]);
        p.MinHolders.Add(new MinHoldersRequirement(p.L("a"), p.L("-1")));
        Single(p, DiagnosticCodes.InvalidValue);
    }

    [Fact]
    public void Compile_ManyProblems_AllReportedInSourceOrder()
    {
        var p = new TestPolicy().Role("a", inherits: ["ghost"], allow: ["bad rule", "x:y on [z"], max: "secret", kinds: ["robot"]);
        var errors = p.Compile().Errors.ToList();
        errors.Select(e => e.Code).Should().BeEquivalentTo(
            [DiagnosticCodes.UndeclaredRole, DiagnosticCodes.MalformedRule, DiagnosticCodes.InvalidPattern, DiagnosticCodes.UnknownTier, DiagnosticCodes.InvalidKind]);
        errors.Select(e => e.Location.Line).Should().BeInAscendingOrder();
    }

    [Fact]
    public void Compile_TooManyTags_LimitExceeded()
    {
        var tags = Enumerable.Range(0, 64).Select(i => $"t{i}").ToArray();
        Single(new TestPolicy().Role("a", allow: ["x:y on z"], clearances: tags), DiagnosticCodes.LimitExceeded);
    }

    [Fact]
    public void Diagnostic_ToString_IsFileLineColSeverityCodeMessage()
    {
        var d = PolicyDiagnostic.Error("unknown_key", "unknown key 'x'", new SourceLocation("p.yaml", 3, 5));
        d.ToString().Should().Be("p.yaml:3:5: error unknown_key: unknown key 'x'");
        PolicyDiagnostic.Warning("w", "m", new SourceLocation("p.yaml", 1, 2)).ToString().Should().Be("p.yaml:1:2: warning w: m");
    }

    // Lint warnings: the policy still loads.
    private static PolicyDiagnostic Warning(TestPolicy p, string code)
    {
        var c = p.Compile();
        c.Succeeded.Should().BeTrue();
        return c.Warnings.Should().ContainSingle(d => d.Code == code).Subject;
    }

    [Fact]
    public void Lint_GrantsEverything_Warns()
    {
        var p = new TestPolicy().Role("admin", allow: ["* on **"], max: "restricted");
        Warning(p, DiagnosticCodes.GrantsEverything).Location.Should().Be(LocationOf(p, "* on **"));
    }

    [Fact]
    public void Lint_RoleWithoutGrants_Warns() => Warning(new TestPolicy().Role("a", allow: ["x:y on z"]).Role("empty", deny: ["x:y on z"]), DiagnosticCodes.RoleWithoutGrants);

    [Theory]
    [InlineData("tool:invoke on tool:report_x", "tool:invoke on tool:report_*")]
    [InlineData("tool:invoke on tool:a/b/*", "tool:invoke on tool:a/**")]
    [InlineData("tool:invoke on tool:report_a*", "tool:invoke on tool:report_*")]
    [InlineData("tool:invoke on tool:x", "* on **")]
    public void Lint_AllowCoveredByOwnDeny_Warns(string allow, string deny)
        => Warning(new TestPolicy().Role("r", allow: [allow], deny: [deny]), DiagnosticCodes.AllowShadowedByDeny);

    [Fact]
    public void Lint_AllowPartlyDenied_NoWarning()
        => new TestPolicy().Role("r", allow: ["tool:invoke on tool:*"], deny: ["tool:invoke on tool:rm"]).Compile().Warnings
            .Should().NotContain(d => d.Code == DiagnosticCodes.AllowShadowedByDeny);

    [Fact]
    public void Lint_GrantOnClassifiedWithoutCeiling_Warns()
        => Warning(new TestPolicy().Role("r", allow: ["data:read on dataset:claims/2024"]).Catalog("dataset:claims/**", "restricted"), DiagnosticCodes.MissingMaxSensitivity);

    [Fact]
    public void Lint_GrantOnUnclassifiedWithoutCeiling_NoWarning()
        => new TestPolicy().Role("r", allow: ["data:read on output:*"]).Catalog("dataset:claims/**", "restricted").Compile().Warnings
            .Should().NotContain(d => d.Code == DiagnosticCodes.MissingMaxSensitivity);

    [Fact]
    public void Lint_MinHoldersNotMet_Warns()
    {
        var p = new TestPolicy().Role("admin", allow: ["x:y on z"]).BoundSubject("bob", roles: ["admin"])
            .BoundSubject("old", roles: ["admin"], expires: "2020-01-01T00:00:00Z");
        p.MinHolders.Add(new MinHoldersRequirement(p.L("admin"), p.L("2")));
        Warning(p, DiagnosticCodes.MinHoldersNotMet).Message.Should().Contain("give it 1");
        p.BoundSubject("carol", roles: ["admin"]);
        p.Compile().Warnings.Should().NotContain(d => d.Code == DiagnosticCodes.MinHoldersNotMet);
    }

    [Fact]
    public void Lint_BindingBreaksExclusion_WarnsThroughGroups()
        => Warning(new TestPolicy().Role("a", allow: ["x:y on z"]).Role("b", allow: ["x:y on z"]).MutuallyExclusive("a", "b")
            .Group("g", "b").BoundSubject("u", roles: ["a"], groups: ["g"]), DiagnosticCodes.BindingBreaksExclusion);

    [Fact]
    public void Lint_BindingToUndeclaredRole_WarnsAndStillLoads()
        => Warning(new TestPolicy().Role("a", allow: ["x:y on z"]).BoundSubject("u", roles: ["ghost"]), DiagnosticCodes.BindingUndeclaredRole);

    [Fact]
    public void Compile_TenThousandRoles_Compiles()
    {
        var p = new TestPolicy();
        for (int i = 0; i < 10_000; i++)
        {
            p.Role($"team-{i:D5}", allow: [$"tool:invoke on tool:team{i}_*", $"model:query on model:m{i}"], max: "internal");
        }

        var policy = p.Build();
        policy.Roles.Should().HaveCount(10_000);
        policy.Authorize(Subject.WithRoles("u", SubjectKind.User, "team-09999"), "tool:invoke", "tool:team9999_x").Role.Should().Be("team-09999");
    }
}
