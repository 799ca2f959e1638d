namespace AiRbac.Review.Tests;

/// <summary>
/// The review reads records of every schema the sink writes: schema 2 adds binding objects, the chain, the owner and the
/// shadow fields (docs/audit-log.md, "Record schema"), none of which changes what the review counts.
/// </summary>
public sealed class RecordSchemaTests
{
    [Fact]
    public void Review_Schema2Record_IsReadAsItsSchema1Counterpart()
    {
        string schema2 = """{"time":"2026-05-20T10:00:00Z","schema":2,"policy_version":"abc","policy_loaded_at":"2026-05-01T00:00:00Z","subject":"alice","kind":"user","roles":["policy-engineer",{"role":"analyst","scope":"acme","expires":"2027-01-01T00:00:00Z"}],"on_behalf_of":["bob"],"chain":[{"subject":"bob","kind":"user","roles":["admin",{"role":"viewer","scope":"acme"}]}],"action":"model:query","resource":"model:gpt-4o","owner":"carol","allowed":true,"reason":"allowed","role":"analyst","rule":"model:query on model:gpt-4o","shadow":"disagreed","shadow_policy_version":"def","shadow_allowed":false,"shadow_reason":"no_matching_grant"}""";
        string[] log = [.. ReviewFixture.Audit];
        log[0].Should().Contain("\"subject\":\"alice\"").And.Contain("\"rule\":\"model:query on model:gpt-4o\"");
        log[0] = schema2;

        var report = ReviewFixture.Reviewer().Review(new StringReader(string.Join("\n", log)), ReviewFixture.Now, AccessReviewer.DefaultWindow, "audit.jsonl");

        report.ToJson().Should().Be(ReviewFixture.Review().ToJson());
    }
}
