// The browser half of the test host: an AppBridge (from @modelcontextprotocol/ext-apps) beside a
// sandboxed iframe holding the view's HTML, as an MCP Apps host renders it. Tool calls the view
// makes go to window.hostCallTool, which the Node half answers through a real MCP client.
import { AppBridge, PostMessageTransport, type McpUiHostContext } from '@modelcontextprotocol/ext-apps/app-bridge';

declare global {
  interface Window {
    hostCallTool(params: unknown): Promise<any>;
    mountView(o: {
      html: string;
      tool: string;
      args: Record<string, unknown>;
      result: any;
      context: McpUiHostContext;
    }): Promise<void>;
  }
}

window.mountView = async (o) => {
  const frame = document.createElement('iframe');
  // Scripts only: no same origin, no network beyond what the page itself could reach (nothing).
  frame.setAttribute('sandbox', 'allow-scripts');
  frame.style.cssText = 'border:0;width:100%;height:400px;display:block';
  document.getElementById('host')!.append(frame);
  const bridge = new AppBridge(
    null,
    { name: 'kubeflow-mcp-test-host', version: '1.0.0' },
    { serverTools: {}, logging: {} },
    {
      hostContext: {
        ...o.context,
        toolInfo: { tool: { name: o.tool, inputSchema: { type: 'object' } } },
        displayMode: 'inline',
      },
    },
  );
  bridge.oncalltool = (params) => window.hostCallTool(params);
  bridge.onsizechange = ({ height }) => {
    if (height) frame.style.height = `${Math.ceil(height)}px`;
  };
  const ready = new Promise<void>((resolve) => {
    bridge.oninitialized = () => resolve();
  });
  await bridge.connect(new PostMessageTransport(frame.contentWindow!, frame.contentWindow!));
  frame.srcdoc = o.html;
  await ready;
  await bridge.sendToolInput({ arguments: o.args });
  await bridge.sendToolResult(o.result);
};
