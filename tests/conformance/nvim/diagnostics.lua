-- One editor session against `paved lsp` with Neovim's built-in client
-- (0.7's API: vim.lsp.start_client). Opens the spec named by PAVED_SPEC,
-- waits for Paved's diagnostics, writes them one per line to PAVED_OUT
-- ("code<TAB>line<TAB>col<TAB>source", 1-based) and quits: 0 when some
-- arrived, 1 otherwise.
local spec = os.getenv('PAVED_SPEC')
local out = os.getenv('PAVED_OUT')
local paved = os.getenv('PAVED_BIN') or 'paved'

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

vim.lsp.stop_client(client)
vim.wait(2000, function() return vim.lsp.client_is_stopped(client) end, 50)
if got then vim.cmd('qall!') else vim.cmd('cquit 1') end
