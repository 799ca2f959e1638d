using AiRbac.Extensions.AI;
using AiRbac.IntegrationTests;
using Microsoft.Extensions.AI;
using Microsoft.SemanticKernel;
using Microsoft.SemanticKernel.ChatCompletion;

namespace AiRbac.SemanticKernel.Tests;

/// <summary>
/// Tool-call arguments as context and approvals in Semantic Kernel (docs/integrations.md, "Semantic Kernel"): the same
/// shared gate. ops/sql_query may touch sales_* tables only; ops/deploy_model needs a release-manager's approval.
/// Semantic Kernel has no tool-approval flow: the call is answered with the approval_required text, and runs only when
/// the host's approval provider attests approvals for it.
/// </summary>
public sealed class KernelToolContextTests
{
    private readonly List<string> ran = [];
    private readonly AgentPolicyV2.ApprovalStore store = new();

    [Fact]
    public async Task SqlFunction_RunsOnASalesTable_AndNeverOnAnother()
    {
        var kernel = Kernel().WithAiRbac(new AiRbacChatContext(AgentPolicyV2.Bot));
        var sql = kernel.Plugins.GetFunction("ops", "sql_query");

        var allowed = await kernel.InvokeAsync(sql, new KernelArguments { ["table"] = "sales_2026" });
        var denied = await kernel.InvokeAsync(sql, new KernelArguments { ["table"] = "hr_salaries" });

        ran.Should().Equal("sql_query sales_2026");
        allowed.GetValue<object>()?.ToString().Should().Be("rows of sales_2026");
        denied.GetValue<object>()?.ToString().Should().Be("Tool 'ops/sql_query' was not run: access denied (condition_failed).");
    }

    [Fact]
    public async Task ModelCall_WithAnotherTable_NeverRuns()
    {
        // The attacker's test through auto function invocation: the injected call asks for the salaries table.
        var model = new ScriptedModel(
            _ => new ChatResponse(new ChatMessage(ChatRole.Assistant, [new Microsoft.Extensions.AI.FunctionCallContent("c1", "ops_sql_query", new Dictionary<string, object?> { ["table"] = "hr_salaries" })])),
            _ => ScriptedModel.Text("done"));
        var kernel = Kernel().WithAiRbac(new AiRbacChatContext(AgentPolicyV2.Bot));

        var service = model.AsBuilder().UseKernelFunctionInvocation().Build().AsChatCompletionService();
        var history = new ChatHistory();
        history.AddUserMessage("salaries please");
        await service.GetChatMessageContentsAsync(history, new PromptExecutionSettings { FunctionChoiceBehavior = FunctionChoiceBehavior.Auto() }, kernel);

        ran.Should().BeEmpty();
        model.ResultsSeen(1)["c1"].Should().Be("Tool 'ops/sql_query' was not run: access denied (condition_failed).");
    }

    [Fact]
    public async Task DeployFunction_WithoutHostApprovals_IsAnsweredApprovalRequired_AndDoesNotRun()
    {
        var kernel = Kernel().WithAiRbac(new AiRbacChatContext(AgentPolicyV2.Bot) { ApprovalProvider = store.For });

        var result = await kernel.InvokeAsync(kernel.Plugins.GetFunction("ops", "deploy_model"), new KernelArguments { ["model"] = "prod-eu" });

        ran.Should().BeEmpty();
        result.GetValue<object>()?.ToString().Should().Be("Tool 'ops/deploy_model' was not run: approval required by rule 'prod-deploy' (approval_required).");
        store.Asked.Should().Equal("ops/deploy_model");
    }

    [Theory]
    [InlineData("rita", true)]
    [InlineData("support-bot", false)] // the requester
    [InlineData("alice", false)]       // the user it acts for
    public async Task DeployFunction_RunsOnlyWithAnApprovalTheHostAttests_ByAnEligibleApprover(string approver, bool runs)
    {
        var arguments = new KernelArguments { ["model"] = "prod-eu" };
        var fingerprint = Fingerprint("ops/deploy_model", arguments);
        store.Approve(string.Empty, fingerprint, new Approval(approver, "prod-deploy", DateTimeOffset.UtcNow.AddMinutes(-1)));
        var kernel = Kernel().WithAiRbac(new AiRbacChatContext(AgentPolicyV2.Bot) { ApprovalProvider = store.For });

        await kernel.InvokeAsync(kernel.Plugins.GetFunction("ops", "deploy_model"), arguments);
        await kernel.InvokeAsync(kernel.Plugins.GetFunction("ops", "deploy_model"), new KernelArguments { ["model"] = "prod-us" });

        ran.Should().Equal(runs ? ["deploy prod-eu"] : []);
    }

    // What the host's approval store would have recorded: the fingerprint shown with the approval request.
    private static string Fingerprint(string tool, KernelArguments arguments)
    {
        string? seen = null;
        var gate = new AiRbacToolGate(AgentPolicyV2.Authorizer());
        gate.Authorize(new AiRbacChatContext(AgentPolicyV2.Bot) { ApprovalProvider = call => { seen = call.Fingerprint; return []; } }, tool, arguments, callId: null);
        return seen!;
    }

    private Kernel Kernel()
    {
        var kernel = new Kernel();
        kernel.Plugins.Add(KernelPluginFactory.CreateFromFunctions("ops", [
            KernelFunctionFactory.CreateFromMethod((string table) => { ran.Add("sql_query " + table); return "rows of " + table; }, "sql_query"),
            KernelFunctionFactory.CreateFromMethod((string model) => { ran.Add("deploy " + model); return "deployed " + model; }, "deploy_model"),
        ]));
        return kernel.UseAiRbac(AgentPolicyV2.Authorizer());
    }
}
