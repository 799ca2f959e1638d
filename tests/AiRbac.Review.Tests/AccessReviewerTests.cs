using System.Text;
using System.Text.Json;
using AiRbac.Yaml;

namespace AiRbac.Review.Tests;

public sealed class AccessReviewerTests
{
    private static GrantUsage Grant(AccessReviewReport report, string role, string rule)
        => report.Roles.Single(r => r.Name == role).Grants.Single(g => g.Rule == rule);

    [Fact]
    public void Review_Counts_RecordsAllowedAndUnmatched()
    {
        var report = ReviewFixture.Review();

        report.AuditRecords.Should().Be(7);
        report.AllowedRecords.Should().Be(6);
        report.UnmatchedAllowedRecords.Should().Be(1); // role 'ghost' is not in the policy
        report.FirstRecord.Should().Be(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        report.LastRecord.Should().Be(new DateTimeOffset(2026, 5, 30, 12, 0, 0, TimeSpan.Zero));
        report.Since.Should().Be(ReviewFixture.Now - TimeSpan.FromDays(90));
    }

    [Fact]
    public void Review_GrantUsedInWindow_HasLastUseAndCount()
    {
        var grant = Grant(ReviewFixture.Review(), "analyst", "model:query on model:gpt-4o");

        grant.LastUsed.Should().Be(new DateTimeOffset(2026, 5, 20, 10, 0, 0, TimeSpan.Zero));
        grant.UsesInWindow.Should().Be(2);
        grant.Unused.Should().BeFalse();
    }

    [Fact]
    public void Review_GrantUsedBeforeWindow_IsUnusedWithLastUse()
    {
        var grant = Grant(ReviewFixture.Review(), "viewer", "data:read on output:*");

        grant.LastUsed.Should().Be(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        grant.UsesInWindow.Should().Be(0);
        grant.Unused.Should().BeTrue();
    }

    [Fact]
    public void Review_GrantNeverUsed_IsUnusedWithoutLastUse()
    {
        var grant = Grant(ReviewFixture.Review(), "clinician", "data:read on dataset:patients/**");

        grant.LastUsed.Should().BeNull();
        grant.Unused.Should().BeTrue();
    }

    [Fact]
    public void Review_LongerWindow_MakesOldUseRecent()
    {
        var report = ReviewFixture.Review(window: TimeSpan.FromDays(365));

        Grant(report, "viewer", "data:read on output:*").Unused.Should().BeFalse();
        report.UnusedGrantCount.Should().Be(report.GrantCount - 4);
    }

    [Fact]
    public void Review_AuditRoleById_CountsForTheRoleName()
    {
        var dave = ReviewFixture.Review().Subjects.Single(s => s.Id == "dave");

        dave.Kind.Should().Be("agent");
        dave.Roles.Select(r => (r.Role, r.Source, r.Declared)).Should().Equal(("analyst", RoleSource.Audit, true));
        dave.Grants.Single(g => g.Rule == "tool:invoke on tool:report_*").Unused.Should().BeFalse();
    }

    [Fact]
    public void Review_Subject_ListsGrantsOfHeldRolesAndAncestorsWithOwnUse()
    {
        var alice = ReviewFixture.Review().Subjects.Single(s => s.Id == "alice");

        alice.Kind.Should().Be("user");
        alice.Roles.Select(r => (r.Role, r.Source)).Should().Equal(
            ("analyst", RoleSource.Binding | RoleSource.Audit),
            ("policy-engineer", RoleSource.Binding | RoleSource.Audit));
        alice.Grants.Select(g => (g.Role, g.Rule, g.Unused)).Should().Equal(
            ("analyst", "model:query on model:gpt-4o", false),
            ("analyst", "tool:invoke on tool:report_*", true), // dave used it, alice did not
            ("viewer", "data:read on output:*", true),
            ("policy-engineer", "config:write on config:*", true));
        alice.LastSeen.Should().Be(new DateTimeOffset(2026, 5, 20, 10, 0, 0, TimeSpan.Zero));
    }

    [Fact]
    public void Review_ExpiredBinding_IsNotHeld()
    {
        var report = ReviewFixture.Review();

        report.Subjects.Single(s => s.Id == "old").Roles.Should().BeEmpty();
        report.Roles.Single(r => r.Name == "clinician").Holders.Should().BeEmpty();
    }

    [Fact]
    public void Review_UndeclaredAuditRole_IsListedAsUndeclared()
    {
        var eve = ReviewFixture.Review().Subjects.Single(s => s.Id == "eve");

        eve.Roles.Select(r => (r.Role, r.Declared)).Should().Equal(("ghost", false), ("ops", true));
    }

    [Fact]
    public void Review_HighRiskRoles_WithReasonsAndHolders()
    {
        var report = ReviewFixture.Review();

        report.HighRiskRoles.Select(r => r.Role).Should().Equal("clinician", "ops", "admin", "super");
        var admin = report.HighRiskRoles.Single(r => r.Role == "admin");
        admin.Reasons.Select(r => (r.Code, r.Via, r.Detail)).Should().Equal(
            ("all_access", "admin", "* on **"), ("highest_ceiling", "admin", "restricted"), ("admin_name", "admin", "admin"));
        admin.Holders.Select(h => (h.Subject, h.Source)).Should().Equal(("bob", RoleSource.Binding));
        report.HighRiskRoles.Single(r => r.Role == "super").Reasons.Should().OnlyContain(r => r.Via == "admin");
        report.HighRiskRoles.Single(r => r.Role == "ops").Reasons.Select(r => r.Code).Should().Equal("wildcard_action");
        report.HighRiskRoles.Single(r => r.Role == "ops").Holders.Select(h => (h.Subject, h.Source)).Should().Equal(("eve", RoleSource.Audit));
        report.HighRiskRoles.Single(r => r.Role == "clinician").Reasons.Select(r => r.Code).Should().Equal("highest_ceiling", "clearance");
    }

    [Fact]
    public void Review_HighRiskRoles_EveryActionFormsAreFlagged_AsTheCoreDefinesThem()
    {
        const string policy = """
            version: 1
            roles:
              colon-root:
                allow: [ "*:* on *:**" ]
              colon-ops:
                allow: [ "*:* on tool:*" ]
              reader:
                allow: [ "*:read on **" ]
            """;
        var compiled = YamlPolicy.Compile(policy, "policy.yaml");
        var report = new AccessReviewer(compiled.Policy!).Review(new StringReader(""), ReviewFixture.Now, AccessReviewer.DefaultWindow);

        // The same test as RuleInfo.IsEverything / IsEveryAction (and so as lint's grants_everything and the matrix).
        report.HighRiskRoles.Single(r => r.Role == "colon-root").Reasons.Select(r => (r.Code, r.Detail)).Should().Equal(("all_access", "*:* on *:**"));
        report.HighRiskRoles.Single(r => r.Role == "colon-ops").Reasons.Select(r => (r.Code, r.Detail)).Should().Equal(("wildcard_action", "*:* on tool:*"));
        report.HighRiskRoles.Should().NotContain(r => r.Role == "reader");
        compiled.Warnings.Where(w => w.Code == "grants_everything").Should().ContainSingle().Which.Message.Should().Contain("colon-root");
    }

    [Fact]
    public void Review_BindingPlusAuditRoles_BreakMutuallyExclusive()
    {
        var report = ReviewFixture.Review();

        report.ExclusionBreaches.Should().ContainSingle();
        var breach = report.ExclusionBreaches[0];
        breach.Subject.Should().Be("carol");
        breach.Set.Should().Equal("policy-engineer", "deploy-approver");
        breach.HeldFromSet.Should().Equal("policy-engineer", "deploy-approver");
        breach.Source.Should().Be(RoleSource.Binding | RoleSource.Audit);
    }

    [Fact]
    public void Review_ExclusiveRoleHeldThroughInheritance_IsABreach()
    {
        const string Policy = """
            version: 1
            roles:
              writer: { allow: [ "config:write on config:*" ] }
              approver: { allow: [ "config:approve on config:*" ] }
              lead: { inherits: [approver], allow: [ "team:manage on team:*" ] }
            constraints:
              mutually_exclusive: [ [writer, approver] ]
            bindings:
              subjects:
                zed: { roles: [writer, lead] }
            """;
        var reviewer = new AccessReviewer(Yaml.YamlPolicy.Compile(Policy, "p.yaml").Policy!);

        var report = reviewer.Review(new StringReader(""), ReviewFixture.Now, AccessReviewer.DefaultWindow);

        report.ExclusionBreaches.Should().ContainSingle().Which.HeldFromSet.Should().Equal("writer", "approver");
        report.AuditRecords.Should().Be(0);
        report.Roles.SelectMany(r => r.Grants).Should().OnlyContain(g => g.Unused && g.LastUsed == null);
    }

    [Fact]
    public void Review_OverlongLine_ThrowsWithoutReadingItAll()
    {
        var act = () => ReviewFixture.Reviewer().Review(new StringReader(new string('x', (1 << 20) + 10)), ReviewFixture.Now, AccessReviewer.DefaultWindow);

        act.Should().Throw<AuditLogFormatException>().Which.LineNumber.Should().Be(1);
    }

    [Fact]
    public void Review_CrlfLinesAndUnknownFields_AreAccepted()
    {
        string log = ReviewFixture.Audit[0].Replace("\"allowed\":true", "\"allowed\":true,\"latency_ns\":42", StringComparison.Ordinal) + "\r\n" + ReviewFixture.Audit[1] + "\r\n";

        var report = ReviewFixture.Reviewer().Review(new StringReader(log), ReviewFixture.Now, AccessReviewer.DefaultWindow);

        report.AuditRecords.Should().Be(2);
    }

    [Fact]
    public void Review_LargeLog_IsStreamed()
    {
        const int Lines = 200_000;
        var report = ReviewFixture.Reviewer().Review(new GeneratedLog(Lines), ReviewFixture.Now, AccessReviewer.DefaultWindow);

        report.AuditRecords.Should().Be(Lines);
        Grant(report, "analyst", "model:query on model:gpt-4o").UsesInWindow.Should().Be(Lines);
        report.Subjects.Count.Should().Be(4 + 1000); // the bound subjects and the 1000 generated ones
    }

    [Fact]
    public void Review_NonPositiveWindow_Throws()
    {
        var act = () => ReviewFixture.Reviewer().Review(new StringReader(""), ReviewFixture.Now, TimeSpan.Zero);

        act.Should().Throw<ArgumentOutOfRangeException>();
    }

    [Fact]
    public void ToJson_HasTheReportFields()
    {
        using var json = JsonDocument.Parse(ReviewFixture.Review().ToJson());
        var root = json.RootElement;

        root.GetProperty("window").GetString().Should().Be("90d");
        root.GetProperty("since").GetString().Should().Be("2026-03-03T00:00:00Z");
        root.GetProperty("records").GetInt64().Should().Be(7);
        root.GetProperty("unmatched_allowed_records").GetInt64().Should().Be(1);
        var viewer = root.GetProperty("roles").EnumerateArray().Single(r => r.GetProperty("role").GetString() == "viewer");
        var grant = viewer.GetProperty("grants")[0];
        grant.GetProperty("rule").GetString().Should().Be("data:read on output:*");
        grant.GetProperty("last_used").GetString().Should().Be("2026-01-01T00:00:00Z");
        grant.GetProperty("unused").GetBoolean().Should().BeTrue();
        var clinician = root.GetProperty("roles").EnumerateArray().Single(r => r.GetProperty("role").GetString() == "clinician");
        clinician.GetProperty("grants")[0].GetProperty("last_used").ValueKind.Should().Be(JsonValueKind.Null);
        var breach = root.GetProperty("exclusion_breaches")[0];
        breach.GetProperty("subject").GetString().Should().Be("carol");
        breach.GetProperty("source").EnumerateArray().Select(s => s.GetString()).Should().Equal("binding", "audit");
        root.GetProperty("high_risk_roles").EnumerateArray().Select(r => r.GetProperty("role").GetString()).Should().Equal("clinician", "ops", "admin", "super");
        var alice = root.GetProperty("subjects").EnumerateArray().Single(s => s.GetProperty("subject").GetString() == "alice");
        alice.GetProperty("grants")[0].GetProperty("role").GetString().Should().Be("analyst");
    }

    [Fact]
    public void ToMarkdown_ListsSectionsAndFlagsUnusedGrants()
    {
        string text = ReviewFixture.Review().ToMarkdown();

        text.Should().StartWith("# Access review: `policy.yaml`\n");
        text.Should().Contain("## High-risk roles");
        text.Should().Contain("| `admin` | grants every action on every resource: `* on **`; ceiling at the highest tier `restricted`; admin-like name | `bob` (binding) |");
        text.Should().Contain("| `viewer` | `data:read on output:*` | 2026-01-01T00:00:00Z | 0 | **unused** |");
        text.Should().Contain("| `clinician` | `data:read on dataset:patients/**` | never | 0 | **unused** |");
        text.Should().Contain("| `carol` | `policy-engineer`, `deploy-approver` | `policy-engineer`, `deploy-approver` | binding, audit |");
        text.Should().Contain("1 allowed records name a role and rule that are not a grant of this policy");
        text.Should().Contain("| `super` | (no grant) | | | |");
    }

    [Fact]
    public void TryLoadFile_BadPolicy_ReturnsDiagnostics()
    {
        string path = Path.Combine(Path.GetTempPath(), $"airbac-review-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(path, "version: 1\nroles:\n  a:\n    inherits: [ghost]\n");
        try
        {
            AccessReviewer.TryLoadFile(path, out var reviewer, out var compilation).Should().BeFalse();
            reviewer.Should().BeNull();
            compilation.Diagnostics.Should().Contain(d => d.IsError && d.Code == "undeclared_role");

            File.WriteAllText(path, ReviewFixture.Policy);
            AccessReviewer.TryLoadFile(path, out reviewer, out _).Should().BeTrue();
            reviewer!.Review(new StringReader(""), ReviewFixture.Now, AccessReviewer.DefaultWindow).Subjects.Should().Contain(s => s.Id == "carol");
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>Produces audit lines on demand, so the test holds no copy of the log.</summary>
    private sealed class GeneratedLog(int lines) : TextReader
    {
        private readonly StringBuilder pending = new();
        private int produced;
        private int offset;

        public override int Read(char[] buffer, int index, int count)
        {
            if (offset == pending.Length)
            {
                if (produced == lines)
                {
                    return 0;
                }

                pending.Clear();
                offset = 0;
                pending.Append("{\"time\":\"2026-05-").Append(10 + (produced % 20)).Append("T00:00:00Z\",\"subject\":\"user-").Append(produced % 1000)
                    .Append("\",\"action\":\"model:query\",\"resource\":\"model:gpt-4o\",\"allowed\":true,\"reason\":\"allowed\",\"role\":\"analyst\",\"rule\":\"model:query on model:gpt-4o\",\"roles\":[\"analyst\"]}\n");
                produced++;
            }

            int n = Math.Min(count, pending.Length - offset);
            pending.CopyTo(offset, buffer.AsSpan(index, n), n);
            offset += n;
            return n;
        }
    }
}
