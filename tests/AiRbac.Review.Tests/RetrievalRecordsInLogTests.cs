namespace AiRbac.Review.Tests;

/// <summary>
/// Retrieval records (<c>"event":"retrieval"</c>, docs/audit-log.md, "Retrieval records") in the log under review: read
/// and checked like any line, counted as no decision (they name no deciding grant), and a malformed one stops the review.
/// </summary>
public sealed class RetrievalRecordsInLogTests
{
    // As JsonLinesAuditSink writes them: an agent's query, and a failed query of a user.
    private const string Query = """{"time":"2026-05-20T10:00:01Z","event":"retrieval","policy_version":"9f2c","policy_loaded_at":"2026-05-01T00:00:00Z","subject":"rag-bot","kind":"agent","roles":["assistant"],"on_behalf_of":["carol"],"action":"data:read","store":"chunks","candidates":7,"removed":3,"returned":4,"approximations":["name_patterns","scope_paths"],"filter":"subject 'rag-bot' may 'data:read' a resource\n  ..."}""";
    private const string FailedQuery = """{"time":"2026-05-21T10:00:01Z","event":"retrieval","policy_version":"9f2c","policy_loaded_at":"2026-05-01T00:00:00Z","subject":"alice","action":"data:read","candidates":2,"removed":2,"returned":0,"failed":true,"filter":"subject 'alice' may 'data:read' a resource"}""";

    private static AccessReviewReport Review(string log) => ReviewFixture.Reviewer().Review(new StringReader(log), ReviewFixture.Now, AccessReviewer.DefaultWindow, "audit.jsonl");

    [Fact]
    public void RetrievalRecords_AreSkipped_TheReviewIsTheSameAsWithoutThem()
    {
        string without = string.Join("\n", ReviewFixture.Audit) + "\n";
        string with = string.Join("\n", [ReviewFixture.Audit[0], Query, .. ReviewFixture.Audit[1..], FailedQuery]) + "\n";

        var plain = Review(without);
        var mixed = Review(with);

        mixed.ToJson().Should().Be(plain.ToJson());
        mixed.ToMarkdown().Should().Be(plain.ToMarkdown());
        mixed.AuditLogComplete.Should().BeTrue("a retrieval record is neither a decision nor a loss");
        mixed.AuditRecords.Should().Be(plain.AuditRecords);
    }

    [Theory]
    [InlineData("""{"time":"2026-05-20T10:00:01Z","event":"retrieval","subject":"a","action":"data:read","candidates":3,"removed":1,"returned":1,"filter":"f"}""", "'removed' and 'returned' must add up to 'candidates'")]
    [InlineData("""{"time":"2026-05-20T10:00:01Z","event":"retrieval","subject":"a","action":"data:read","candidates":-1,"removed":0,"returned":-1,"filter":"f"}""", "'candidates' must be present and be an integer of at least 0")]
    [InlineData("""{"time":"2026-05-20T10:00:01Z","event":"retrieval","subject":"a","action":"data:read","candidates":1,"removed":0,"filter":"f"}""", "'returned' must be present")]
    [InlineData("""{"time":"2026-05-20T10:00:01Z","event":"retrieval","subject":"a","action":"data:read","candidates":1,"removed":0,"returned":1}""", "'filter' is missing")]
    [InlineData("""{"time":"2026-05-20T10:00:01Z","event":"retrieval","action":"data:read","candidates":1,"removed":0,"returned":1,"filter":"f"}""", "'subject' is missing")]
    [InlineData("""{"time":"2026-05-20T10:00:01Z","event":"retrieval","subject":"a","action":"data:read","candidates":1,"removed":0,"returned":1,"failed":true,"filter":"f"}""", "a failed query returned nothing")]
    [InlineData("""{"time":"2026-05-20T10:00:01Z","event":"retrieval","subject":"a","action":"data:read","candidates":1,"removed":1,"returned":0,"failed":false,"filter":"f"}""", "'failed' is only ever true")]
    [InlineData("""{"time":"2026-05-20T10:00:01Z","event":"retrieval","subject":"a","kind":"robot","action":"data:read","candidates":0,"removed":0,"returned":0,"filter":"f"}""", "unknown 'kind'")]
    [InlineData("""{"time":"2026-05-20T10:00:01Z","event":"retrieval","subject":"a","action":"data:read","candidates":0,"removed":0,"returned":0,"approximations":"all","filter":"f"}""", "'approximations' must be an array of strings")]
    public void MalformedRetrievalRecord_StopsTheReviewNamingTheLine(string badLine, string why)
    {
        // Fail closed, as for any other line: a record the reviewer cannot read might stand for something it should count.
        string log = ReviewFixture.Audit[0] + "\n" + badLine + "\n" + ReviewFixture.Audit[1] + "\n";

        var act = () => Review(log);

        var e = act.Should().Throw<AuditLogFormatException>().Which;
        e.LineNumber.Should().Be(2);
        e.Reason.Should().Contain(why);
    }
}
