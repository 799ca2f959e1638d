using AiRbac.IntegrationTests;
using Microsoft.Extensions.AI;

namespace AiRbac.Extensions.AI.Tests;

/// <summary>
/// <c>.UseAiRbac().UseFunctionInvocation()</c>: the function invoker inside answers every call it handles (asking the
/// policy), so AiRbac outside must not answer those calls a second time, streaming or not.
/// </summary>
public sealed class RecommendedOrderResultTests
{
    private readonly Tools tools = new();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task DeniedCall_IsAnsweredOnce_AndTheModelIsAskedTwice(bool streaming)
    {
        var model = new ScriptedChatClient(
            "gpt-4o",
            _ => ScriptedChatClient.Calls(("c1", "delete_records")),
            _ => ScriptedChatClient.Text("done"),
            _ => ScriptedChatClient.Text("extra"));
        var client = model.AsBuilder().UseAiRbac(TestPolicy.Authorizer()).UseFunctionInvocation().Build();
        var options = new ChatOptions { Tools = [tools.Make("delete_records"), tools.Make("report_weekly")] }.WithAiRbac(TestPolicy.Alice);

        IList<ChatMessage> messages;
        if (streaming)
        {
            List<ChatResponseUpdate> updates = [];
            await foreach (var update in client.GetStreamingResponseAsync("summarise", options))
            {
                updates.Add(update);
            }

            messages = updates.ToChatResponse().Messages;
        }
        else
        {
            messages = (await client.GetResponseAsync("summarise", options)).Messages;
        }

        tools.Ran.Should().BeEmpty();
        model.Requests.Should().HaveCount(2, "one call, one answer, one final text");
        model.Requests[1].Messages.SelectMany(m => m.Contents).OfType<FunctionResultContent>().Should().ContainSingle()
            .Which.CallId.Should().Be("c1");
        messages.SelectMany(m => m.Contents).OfType<FunctionResultContent>().Should().ContainSingle();
        messages.Last().Role.Should().Be(ChatRole.Assistant);
        messages.Last().Text.Should().Be("done");
    }
}
