package io.qwenaudio.infra;

import java.util.function.BiConsumer;
import org.junit.jupiter.api.Test;

/**
 * The cloud front door in base and every overlay: the RequestReply, the gateway Service that calls it, the
 * SinkBinding that gives the gateway the Broker, the dead letters that reach the gateway, and what is reachable
 * from outside the cluster (the checks are in {@link GatewayChecks}).
 */
class GatewayTest {

    private static void onEveryDeployment(String title, BiConsumer<Deployment, Problems> check) {
        Problems problems = new Problems(title);
        for (Deployment d : Deployment.all()) {
            check.accept(d, problems);
        }
        problems.assertNone();
    }

    @Test
    void requestReplyIsValidAsKnativeValidatesIt() {
        onEveryDeployment("RequestReply", GatewayChecks::requestReplyIsValid);
    }

    @Test
    void everyStageAndTheGatewayUseTheRequestRepliesAttributes() {
        onEveryDeployment("reply attributes", GatewayChecks::replyAttributesMatchTheServices);
    }

    @Test
    void gatewayCallsTheRequestReplyAndOutwaitsIt() {
        onEveryDeployment("gateway -> RequestReply", GatewayChecks::gatewayCallsTheRequestReply);
    }

    @Test
    void sinkBindingGivesTheGatewayTheBroker() {
        onEveryDeployment("SinkBinding", GatewayChecks::sinkBindingBindsTheGatewayToTheBroker);
    }

    @Test
    void stageDeadLettersGoToTheGatewayAndTheBrokersDoNot() {
        onEveryDeployment("dead letters", GatewayChecks::deadLettersGoToTheGateway);
    }

    @Test
    void onlyTheGatewayIsReachableFromOutside() {
        onEveryDeployment("visibility", GatewayChecks::onlyTheGatewayIsReachableFromOutside);
    }

    @Test
    void gatewaySharesTheStagesBlobStore() {
        onEveryDeployment("blob store", GatewayChecks::gatewaySharesTheBlobStore);
    }

    @Test
    void gatewayScalesToZeroOnCpuWithoutAModel() {
        onEveryDeployment("gateway sizing", GatewayChecks::gatewayIsALightCpuService);
    }

    @Test
    void gatewayListsTheAdaptersEnvironments() {
        onEveryDeployment("environments", GatewayChecks::gatewayKnowsTheAdaptersEnvironments);
    }
}
