using AiRbac.Yaml;

namespace AiRbac.Review.Tests;

/// <summary>A policy and an audit log whose review outcome is known.</summary>
internal static class ReviewFixture
{
    public const string Policy = """
        version: 1
        roles:
          viewer:
            allow:
              - data:read on output:*
            max_sensitivity: internal
          analyst:
            id: r-analyst
            inherits: [viewer]
            allow:
              - model:query on model:gpt-4o
              - tool:invoke on tool:report_*
            max_sensitivity: confidential
          clinician:
            allow: [ "data:read on dataset:patients/**" ]
            max_sensitivity: restricted
            clearances: [phi]
          policy-engineer:
            allow: [ "config:write on config:*" ]
          deploy-approver:
            allow: [ "config:approve on config:*" ]
          ops:
            allow: [ "* on tool:*" ]
          admin:
            kinds: [user]
            allow: [ "* on **" ]
            max_sensitivity: restricted
          super:
            inherits: [admin]
        constraints:
          mutually_exclusive:
            - [policy-engineer, deploy-approver]
        bindings:
          groups:
            research: [analyst]
          subjects:
            alice: { kind: user, roles: [policy-engineer], groups: [research] }
            bob: { kind: user, roles: [admin] }
            carol: { kind: user, roles: [deploy-approver] }
            old: { kind: user, roles: [clinician], expires: 2020-01-01T00:00:00Z }
        """;

    public static readonly DateTimeOffset Now = new(2026, 6, 1, 0, 0, 0, TimeSpan.Zero);

    public static readonly string[] Audit =
    [
        """{"time":"2026-05-20T10:00:00Z","policy_version":"abc","policy_loaded_at":"2026-05-01T00:00:00Z","subject":"alice","kind":"user","action":"model:query","resource":"model:gpt-4o","allowed":true,"reason":"allowed","role":"analyst","rule":"model:query on model:gpt-4o","roles":["policy-engineer","analyst"]}""",
        """{"time":"2026-01-01T00:00:00Z","subject":"alice","action":"data:read","resource":"output:weekly","allowed":true,"reason":"allowed","role":"viewer","rule":"data:read on output:*","roles":["analyst"]}""",
        """{"time":"2026-05-01T08:00:00+02:00","subject":"carol","action":"config:approve","resource":"config:prod","allowed":false,"reason":"separation_of_duties","role":"policy-engineer","roles":["deploy-approver","policy-engineer"]}""",
        """{"time":"2026-05-30T12:00:00Z","subject":"dave","kind":"agent","on_behalf_of":["alice"],"action":"tool:invoke","resource":"tool:report_weekly","scope":"acme/pd","sensitivity":"internal","tags":[],"allowed":true,"reason":"allowed","role":"analyst","rule":"tool:invoke on tool:report_*","roles":["r-analyst"]}""",
        """{"time":"2026-05-02T00:00:00Z","subject":"eve","action":"tool:invoke","resource":"tool:x","allowed":true,"reason":"allowed","role":"ops","rule":"* on tool:*","roles":["ops"]}""",
        """{"time":"2026-05-03T00:00:00Z","subject":"eve","action":"x:y","resource":"a:b","allowed":true,"reason":"allowed","role":"ghost","rule":"x:y on a:b","roles":["ghost"]}""",
        """{"time":"2026-04-01T00:00:00Z","subject":"alice","action":"model:query","resource":"model:gpt-4o","allowed":true,"reason":"allowed","role":"analyst","rule":"model:query on model:gpt-4o"}""",
        "",
    ];

    public static AccessReviewer Reviewer()
    {
        var compiled = YamlPolicy.Compile(Policy, "policy.yaml");
        compiled.Policy.Should().NotBeNull(string.Join("\n", compiled.Diagnostics));
        return new AccessReviewer(compiled.Policy!);
    }

    public static AccessReviewReport Review(TimeSpan? window = null)
        => Reviewer().Review(new StringReader(string.Join("\n", Audit)), Now, window ?? AccessReviewer.DefaultWindow, "audit.jsonl");
}
