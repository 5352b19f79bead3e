-- One editor session against `paved lsp` with Neovim's built-in client
-- (0.7's API: vim.lsp.start_client). Opens the spec named by PAVED_SPEC,
-- waits for Paved's diagnostics, writes them one per line to PAVED_OUT
-- ("code<TAB>line<TAB>col<TAB>source", 1-based) and quits: 0 when some
-- arrived, 1 otherwise.
--
-- With PAVED_FIX set to a code, it then asks for the code actions of the
-- first diagnostic with that code (with the diagnostics of its line, as
-- Neovim's own code-action request sends them), writes their titles one per
-- line to PAVED_ACTIONS, applies the first action's edit to the buffer and
-- saves it.
local spec = os.getenv('PAVED_SPEC')
local out = os.getenv('PAVED_OUT')
local paved = os.getenv('PAVED_BIN') or 'paved'
local fix = os.getenv('PAVED_FIX')
local actions_out = os.getenv('PAVED_ACTIONS')

local client = vim.lsp.start_client({
  name = 'paved',
  cmd = { paved, 'lsp' },
  root_dir = vim.fn.fnamemodify(spec, ':h'),
})
if not client then
  io.stderr:write('nvim: the paved client did not start\n')
  vim.cmd('cquit 1')
end

vim.cmd('edit ' .. vim.fn.fnameescape(spec))
local buf = vim.api.nvim_get_current_buf()
vim.lsp.buf_attach_client(buf, client)

local got = vim.wait(20000, function()
  return #vim.diagnostic.get(buf) > 0
end, 50)

local lines = {}
for _, d in ipairs(vim.diagnostic.get(buf)) do
  table.insert(lines, string.format('%s\t%d\t%d\t%s', tostring(d.code), d.lnum + 1, d.col + 1, tostring(d.source)))
end
local f = assert(io.open(out, 'w'))
f:write(table.concat(lines, '\n'), '\n')
f:close()

if got and fix then
  local target
  for _, d in ipairs(vim.diagnostic.get(buf)) do
    if tostring(d.code) == fix and (not target or d.lnum < target.lnum) then target = d end
  end
  local titles = {}
  if target then
    local params = {
      textDocument = { uri = vim.uri_from_bufnr(buf) },
      range = {
        start = { line = target.lnum, character = target.col },
        ['end'] = { line = target.end_lnum, character = target.end_col },
      },
      context = { diagnostics = vim.lsp.diagnostic.get_line_diagnostics(buf, target.lnum) },
    }
    local applied = false
    for _, r in pairs(vim.lsp.buf_request_sync(buf, 'textDocument/codeAction', params, 10000) or {}) do
      for _, a in ipairs(r.result or {}) do
        table.insert(titles, a.title)
        if not applied and a.edit then
          vim.lsp.util.apply_workspace_edit(a.edit, 'utf-16')
          applied = true
        end
      end
    end
    vim.cmd('silent write')
  end
  local fa = assert(io.open(actions_out, 'w'))
  fa:write(table.concat(titles, '\n'), '\n')
  fa:close()
end

vim.lsp.stop_client(client)
vim.wait(2000, function() return vim.lsp.client_is_stopped(client) end, 50)
if got then vim.cmd('qall!') else vim.cmd('cquit 1') end
