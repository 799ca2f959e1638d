using System.Globalization;
using System.Text;
using AiRbac.Diagnostics;

namespace AiRbac.Yaml.Tests;

/// <summary>
/// Red team of policy language version 2 from the policy's side (docs/policy-language.md, section 10, "Version 2"):
/// hostile-but-small policies either compile within the documented bounds or are refused with an error at the file, line
/// and column of what is wrong; nothing throws. Timings are not asserted (they are measured and documented), allocation is.
/// </summary>
public sealed class HostileV2PolicyTests
{
    private const long OneGiB = 1L << 30;

    private static PolicyCompilation Compile(string yaml, TimeProvider? clock = null)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        var result = YamlPolicy.Compile(yaml, "hostile.yaml", new PolicyCompilerOptions { TimeProvider = clock ?? TimeProvider.System });
        (GC.GetAllocatedBytesForCurrentThread() - before).Should().BeLessThan(OneGiB);
        return result;
    }

    private static IEnumerable<string> Where(PolicyCompilation result)
        => result.Diagnostics.Select(d => string.Create(CultureInfo.InvariantCulture, $"{d.Location.Line}:{d.Location.Column} {d.Code}"));

    [Fact]
    public void Compile_CycleThroughBreakGlassRoles_IsRefusedAtTheRole()
    {
        var result = Compile("""
            version: 2
            roles:
              emergency:
                break_glass: { max_activation: 1h }
                inherits: [oncall]
              oncall:
                inherits: [emergency]
                allow: [ "data:read on dataset:**" ]
            """);

        result.Succeeded.Should().BeFalse();
        result.Errors.Should().Contain(e => e.Code == DiagnosticCodes.InheritanceCycle && e.Location.Line > 0 && e.Location.Column > 0,
            because: string.Join(" | ", result.Diagnostics));
    }

    [Fact]
    public void Compile_HostileGatesAndWindows_EachErrorAtItsLineAndColumn()
    {
        var result = Compile("""
            version: 2
            context:
              mfa: bool
              risk: integer
            roles:
              a:
                allow: [ "x:y on z:w" ]
                break_glass: { max_activation: 99999999999999999999w }
                conditions:
                  time_of_day: [ "08:00-08:00", "24:00-01:00", "00:00-24:00", "8:00-9:00" ]
                  risk: { min: 99999999999999999999 }
              b:
                allow: [ "x:y on z:w" ]
                break_glass: { max_activation: 8d }
              c:
                allow: [ "x:y on z:w" ]
                break_glass: { max_activation: 0h }
            approvals:
              over:
                match: [ "x:y on z:w" ]
                approvers: [a]
                count: 11
                valid_for: 31d
              negative:
                match: [ "x:y on z:w" ]
                approvers: [a]
                count: -1
                valid_for: -1h
            """);

        result.Succeeded.Should().BeFalse();
        Where(result).Should().Contain([
            "8:36 invalid_value",           // max_activation overflowing: an error, never an exception
            "10:22 invalid_condition",      // start == end
            "10:37 invalid_condition",      // 24:00
            "10:52 invalid_condition",      // 24:00 as an end: a whole day is written without the condition
            "10:67 invalid_condition",      // 8:00: HH:MM only
            "11:20 invalid_condition",      // an integer past 64 bits
            "14:36 invalid_value",          // 8d: more than a week
            "17:36 invalid_value",          // 0h
            "22:12 invalid_value",          // count 11: at most 10
            "23:16 invalid_value",          // valid_for 31d: at most 30 days
            "27:12 invalid_value",
            "28:16 invalid_value"], because: string.Join(" | ", result.Diagnostics));
        result.Errors.Count(e => e.Code == DiagnosticCodes.InvalidCondition && e.Location.Line == 10).Should().Be(4, "every bad window of the list is reported");
    }

    [Fact]
    public void Lint_ApprovalCountAboveItsApprovers_WarnsAtTheCount_AndAGatedApproverRoleAtTheRule()
    {
        var result = Compile("""
            version: 2
            context:
              mfa: bool
            roles:
              deployer:
                allow: [ "model:deploy on model:*" ]
              approver:
                allow: [ "model:query on model:*" ]
              mfa-approver:
                allow: [ "model:query on model:*" ]
                conditions: { mfa: true }
              glass:
                break_glass: { max_activation: 1h }
            approvals:
              three:
                match: [ "model:deploy on model:prod-*" ]
                approvers: [approver]
                count: 3
                valid_for: 1h
              gated:
                match: [ "model:deploy on model:prod-*" ]
                approvers: [mfa-approver, glass]
                valid_for: 1h
            bindings:
              subjects:
                rita: { roles: [approver] }
                sam:  { roles: [approver, mfa-approver, glass] }
            """);

        result.Succeeded.Should().BeTrue(string.Join(" | ", result.Diagnostics));
        Where(result).Should().Equal("12:3 role_without_grants", "18:12 approvers_below_count", "20:3 approval_unsatisfiable");
    }

    [Fact]
    public void Compile_ManyGatedRolesAtTheLimits_Compiles_WithinTheBoundsDocumented()
    {
        // 300 roles (chains of 30 through inheritance), each with 15 string conditions of 64 patterns and 64 time_of_day
        // windows: the most a role may have, 3.0 MB of YAML. Compiles; a request walking a chain of 30 gated roles is
        // decided by the engine (and allocates nothing, ZeroAllocationTests covers the path).
        var yaml = new StringBuilder("version: 2\ncontext:\n");
        for (int k = 0; k < 15; k++)
        {
            yaml.Append(CultureInfo.InvariantCulture, $"  k{k}: string\n");
        }

        string patterns = string.Join(", ", Enumerable.Range(0, 64).Select(v => $"\"v{v}_*\""));
        string windows = string.Join(", ", Enumerable.Range(0, 64).Select(v => string.Create(CultureInfo.InvariantCulture,
            $"\"{v * 22 / 60:00}:{v * 22 % 60:00}-{(v * 22 + 1) / 60:00}:{(v * 22 + 1) % 60:00}\"")));
        yaml.Append("roles:\n");
        for (int r = 0; r < 300; r++)
        {
            yaml.Append(CultureInfo.InvariantCulture, $"  r{r}:\n    allow: [ \"tool:invoke on tool:t{r}_*\" ]\n    conditions:\n");
            for (int k = 0; k < 15; k++)
            {
                yaml.Append(CultureInfo.InvariantCulture, $"      k{k}: [{patterns}]\n");
            }

            yaml.Append(CultureInfo.InvariantCulture, $"      time_of_day: [{windows}]\n");
            if (r % 30 != 0)
            {
                yaml.Append(CultureInfo.InvariantCulture, $"    inherits: [r{r - 1}]\n");
            }
        }

        var result = Compile(yaml.ToString(), new FixedTime(new DateTimeOffset(2026, 6, 1, 0, 0, 30, TimeSpan.Zero)));

        result.Succeeded.Should().BeTrue(string.Join(" | ", result.Diagnostics.Take(3)));
        var context = new RequestContext { Attributes = [.. Enumerable.Range(0, 15).Select(k => new ContextAttribute($"k{k}", "v63_x"))] };
        var subject = Subject.WithRoles("s", SubjectKind.User, "r29");
        result.Policy!.Authorize(subject, "tool:invoke", new ResourceRequest("tool:t0_x"), context).Reason.Should().Be(DecisionReason.Allowed);
        result.Policy.Authorize(subject, "tool:invoke", "tool:t0_x").Reason.Should().Be(DecisionReason.ConditionFailed);
    }

    [Fact]
    public void Compile_ASeventeenthConditionOrASixtyFifthValue_IsLimitExceededAtIt()
    {
        string keys = string.Join("", Enumerable.Range(0, 17).Select(k => $"  k{k}: string\n"));
        string conditions = string.Join("", Enumerable.Range(0, 17).Select(k => $"      k{k}: x\n"));
        string values = string.Join(", ", Enumerable.Range(0, 65).Select(v => $"\"v{v}\""));

        var tooMany = Compile($"version: 2\ncontext:\n{keys}roles:\n  a:\n    allow: [ \"x:y on z:w\" ]\n    conditions:\n{conditions}");
        var tooLong = Compile($"version: 2\ncontext:\n  k: string\nroles:\n  a:\n    allow: [ \"x:y on z:w\" ]\n    conditions:\n      k: [{values}]\n");

        tooMany.Errors.Should().ContainSingle(e => e.Code == DiagnosticCodes.LimitExceeded && e.Location.Line > 0, string.Join(" | ", tooMany.Diagnostics));
        tooLong.Errors.Should().ContainSingle(e => e.Code == DiagnosticCodes.LimitExceeded && e.Location.Line == 8, string.Join(" | ", tooLong.Diagnostics));
    }

    [Theory]
    [InlineData(5, true)]
    [InlineData(640, false)]
    public void Lint_ApproverChecksBeyondTheBudget_AreSkipped_CountingTheRolesEachCheckWalks(int subjects, bool linted)
    {
        // 1,000 approval rules nobody can approve, and subjects with 30 scoped bindings to roles 32 deep. The approver lint
        // asks the engine's approver test per rule, subject and scope, and each ask walks every role the bindings make
        // effective: 640 subjects cost about 6 x 10^11 such steps (15 s when only bindings were counted), so the lint is
        // skipped under MaxRoleChecks; 5 subjects are linted and get the warning.
        var yaml = new StringBuilder("version: 2\nroles:\n");
        for (int i = 0; i < 32; i++)
        {
            yaml.Append(CultureInfo.InvariantCulture, $"  c{i}:\n    allow: [ \"tool:invoke on tool:c{i}\" ]\n");
            if (i > 0)
            {
                yaml.Append(CultureInfo.InvariantCulture, $"    inherits: [c{i - 1}]\n");
            }
        }

        yaml.Append("  approver:\n    allow: [ \"model:query on model:*\" ]\napprovals:\n");
        for (int i = 0; i < 1000; i++)
        {
            yaml.Append(CultureInfo.InvariantCulture, $"  a{i}: {{ match: [ \"model:deploy on model:p{i}-*\" ], approvers: [approver], valid_for: 1h }}\n");
        }

        yaml.Append("bindings:\n  subjects:\n");
        for (int s = 0; s < subjects; s++)
        {
            string bindings = string.Join(", ", Enumerable.Range(0, 30).Select(j => string.Create(CultureInfo.InvariantCulture, $"{{ role: c{31 - (j % 2)}, scope: \"s{s}x{j}\" }}")));
            yaml.Append(CultureInfo.InvariantCulture, $"    u{s}: {{ roles: [ {bindings} ] }}\n");
        }

        var result = Compile(yaml.ToString());

        result.Succeeded.Should().BeTrue(string.Join(" | ", result.Diagnostics.Take(3)));
        result.Warnings.Count(w => w.Code == DiagnosticCodes.ApprovalUnsatisfiable).Should().Be(linted ? 1000 : 0);
    }

    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
